import { type WriteBudget, WriteDeferredError, type WriteRequest } from "@forgehand/forge";
import { afterEach, describe, expect, it } from "vitest";
import type { EmulatedRole } from "../../../../test/support/forge-emulator";
import { closeCommandTest, commandConfig, lastRun, startCommandTest } from "../testing/command-test";

afterEach(closeCommandTest);

for (const flavour of ["github", "gitea"] as const) {
  describe(`slash commands on ${flavour}`, () => {
    it("/stop stops the run and reacts 👀 then 👍", async () => {
      const t = await startCommandTest(flavour);
      t.emu.setPermission("acme/app", "alice", "write");
      t.setRunning(true);
      const id = await t.send("alice", "/stop", [{ name: "stop" }]);
      expect(t.calls.stop).toEqual(["alice"]);
      expect(t.reactionsOn(id)).toEqual(["eyes", "+1"]);
      expect(t.botReplies()).toEqual([]);
    });

    it("/stop with nothing running says so", async () => {
      const t = await startCommandTest(flavour);
      t.emu.setPermission("acme/app", "alice", "write");
      await t.send("alice", "/stop", [{ name: "stop" }]);
      expect(t.botReplies()).toEqual(["@alice Nothing is running on this issue."]);
    });

    it("/retry re-enqueues the last stage resuming its session", async () => {
      const t = await startCommandTest(flavour);
      t.emu.setPermission("acme/app", "alice", "admin");
      t.setLast(lastRun);
      const id = await t.send("alice", "/retry", [{ name: "retry" }]);
      expect(t.calls.enqueue).toEqual([
        // The comment id goes along: the run checks at start that the comment still asks for it.
        [
          "develop",
          { kind: "retry", by: "alice", deliveryId: `d-${id}`, commentId: id },
          { resumeSessionId: "sess-0042" },
        ],
      ]);
      expect(t.reactionsOn(id)).toEqual(["eyes", "+1"]);
      expect(t.botReplies()[0]).toMatch(/Retrying stage `develop` \(run `r-1`, resuming the agent session\)/);
    });

    it("/retry never resumes a malformed or flag-like session id: a fresh session, and the reply says so", async () => {
      const t = await startCommandTest(flavour);
      t.emu.setPermission("acme/app", "alice", "admin");
      // What an agent that printed `"session_id":"--dangerously-skip-permissions"` would have left in its record.
      t.setLast({ ...lastRun, sessionId: "--dangerously-skip-permissions" });
      const id = await t.send("alice", "/retry", [{ name: "retry" }]);
      expect(t.calls.enqueue).toEqual([
        ["develop", { kind: "retry", by: "alice", deliveryId: `d-${id}`, commentId: id }, {}],
      ]);
      expect(t.reactionsOn(id)).toEqual(["eyes", "+1"]);
      expect(t.botReplies()[0]).toMatch(
        /Retrying stage `develop` \(run `r-1`, in a fresh agent session: the earlier session id is malformed\)/,
      );
      expect(t.botReplies()[0]).not.toContain("dangerously");
    });

    it("/retry without an earlier run, or while one is live, enqueues nothing and reacts 😕", async () => {
      const t = await startCommandTest(flavour);
      t.emu.setPermission("acme/app", "alice", "write");
      const a = await t.send("alice", "/retry", [{ name: "retry" }]);
      t.setLast({ ...lastRun, state: "running" });
      const b = await t.send("alice", "/retry", [{ name: "retry" }]);
      expect(t.calls.enqueue).toEqual([]);
      expect(t.reactionsOn(a)).toEqual(["eyes", "confused"]);
      expect(t.reactionsOn(b)).toEqual(["eyes", "confused"]);
      expect(t.botReplies()[1]).toMatch(/still running/);
    });

    it("/run STAGE enqueues the named stage; an unknown stage gets the list of stages", async () => {
      const t = await startCommandTest(flavour);
      t.emu.setPermission("acme/app", "alice", "maintain");
      const ok = await t.send("alice", "/run Analyse", [{ name: "run", stage: "Analyse" }]);
      expect(t.calls.enqueue.map(([s, tr]) => [s, tr.kind])).toEqual([["analyse", "command"]]);
      expect(t.reactionsOn(ok)).toEqual(["eyes", "+1"]);
      // Queued: the reactions and the run's status comment say so; a reply would be one more content-creating write.
      expect(t.botReplies()).toEqual([]);
      const bad = await t.send("alice", "/run deploy`rm -rf`", [{ name: "run", stage: "deploy`rm -rf`" }]);
      expect(t.calls.enqueue).toHaveLength(1);
      expect(t.reactionsOn(bad)).toEqual(["eyes", "confused"]);
      expect(t.botReplies().at(-1)).toBe("@alice Unknown stage `deployrm -rf`. Stages: `analyse`, `develop`.");
    });

    it("/status refreshes, /help lists commands and stages, unknown commands get the list", async () => {
      const t = await startCommandTest(flavour);
      t.emu.setPermission("acme/app", "alice", "write");
      const id = await t.send("alice", "/status\n/help\n/frob", [
        { name: "status" },
        { name: "help" },
        { name: "unknown", raw: "/frob" },
      ]);
      expect(t.calls.refresh).toBe(1);
      const reply = t.botReplies()[0] as string;
      expect(reply).toContain("`/run STAGE`");
      expect(reply).toContain("`develop` (label `agent:develop`)");
      expect(reply).toContain(
        "Unknown command `/frob`. Commands: `/stop`, `/retry`, `/run STAGE`, `/status`, `/help`.",
      );
      expect(t.botReplies()).toHaveLength(1);
      expect(t.reactionsOn(id)).toEqual(["eyes", "confused"]);
    });

    const levels: [EmulatedRole, boolean][] =
      flavour === "github"
        ? [
            ["admin", true],
            ["maintain", true],
            ["write", true],
            ["triage", false],
            ["read", false],
            ["none", false],
          ]
        : [
            ["owner", true],
            ["admin", true],
            ["write", true],
            ["read", false],
            ["none", false],
          ];
    for (const [role, allowed] of levels) {
      it(`${role} is ${allowed ? "allowed" : "refused with a short reply"}`, async () => {
        const t = await startCommandTest(flavour);
        t.emu.setPermission("acme/app", "bob", role);
        t.setRunning(true);
        const id = await t.send("bob", "/stop", [{ name: "stop" }]);
        expect(t.calls.stop).toEqual(allowed ? ["bob"] : []);
        expect(t.reactionsOn(id)).toEqual(allowed ? ["eyes", "+1"] : ["eyes", "confused"]);
        expect(t.botReplies()).toEqual(
          allowed
            ? []
            : [
                "@bob you need one of these permissions on this repository to run forgehand commands: write, maintain, admin.",
              ],
        );
      });
    }

    it("never reads the bot's own comments or other bots' as commands, unless allowlisted", async () => {
      const t = await startCommandTest(flavour);
      t.setRunning(true);
      await t.send("forgehand-bot", "/stop", [{ name: "stop" }]);
      await t.send("FORGEHAND-BOT", "/stop", [{ name: "stop" }]);
      await t.send("renovate[bot]", "/stop", [{ name: "stop" }]);
      expect(t.calls.stop).toEqual([]);
      const api = t.emu.calls.filter((c) => c.path.includes("reactions") || c.path.includes("permission"));
      expect(api).toEqual([]);
      const t2 = await startCommandTest(flavour, commandConfig({ commands: { allowUsers: ["renovate[bot]"] } }));
      t2.setRunning(true);
      await t2.send("renovate[bot]", "/stop", [{ name: "stop" }]);
      expect(t2.calls.stop).toEqual(["renovate[bot]"]);
    });

    it("allowUsers grants a login whatever its forge permission", async () => {
      const t = await startCommandTest(flavour, commandConfig({ commands: { allowUsers: ["Carol"] } }));
      t.emu.setPermission("acme/app", "carol", "read");
      t.setRunning(true);
      await t.send("carol", "/stop", [{ name: "stop" }]);
      expect(t.calls.stop).toEqual(["carol"]);
    });

    it("survives 429/403 rate limits with Retry-After on reactions and replies", async () => {
      const t = await startCommandTest(flavour);
      t.emu.setPermission("acme/app", "alice", "write");
      t.emu.failNext("POST /repos/acme/app/issues/comments/*/reactions", { status: 429, retryAfter: 1 });
      t.emu.failNext("POST /repos/acme/app/issues/3/comments", { status: 403, retryAfter: 1 });
      const id = await t.send("alice", "/stop", [{ name: "stop" }]);
      expect(t.reactionsOn(id)).toEqual(["eyes", "+1"]);
      expect(t.botReplies()).toEqual(["@alice Nothing is running on this issue."]);
      expect(t.emu.calls.filter((c) => c.status === 429 || c.status === 403)).toHaveLength(2);
    });
  });
}

describe("slash commands when the installation's writes are queued up", () => {
  it("leaves the reactions out (low priority) and still runs the command", async () => {
    const asked: WriteRequest[] = [];
    // The budget's answer when writes are queued: a low-priority write is declined, everything else goes.
    const busy: WriteBudget = {
      async take(scope, request) {
        asked.push(request);
        if (request.priority === "low") throw new WriteDeferredError(scope, 5_000);
      },
      async pause() {},
    };
    const t = await startCommandTest("github", commandConfig(), busy);
    t.emu.setPermission("acme/app", "alice", "write");
    const id = await t.send("alice", "/run analyse", [{ name: "run", stage: "analyse" }]);
    expect(t.calls.enqueue.map(([s]) => s)).toEqual(["analyse"]);
    expect(asked).toEqual([
      { creates: false, priority: "low" },
      { creates: false, priority: "low" },
    ]);
    expect(t.reactionsOn(id)).toEqual([]);
    expect(t.botReplies()).toEqual([]);
  });
});
