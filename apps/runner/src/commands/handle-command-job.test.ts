import {
  type Config,
  type IssueRef,
  parseConfig,
  type RunRecord,
  type SlashCommand,
  silentLogger,
} from "@forgehand/core";
import { createGiteaClient, createGitHubClient, createPermissionCache, type ForgeClient } from "@forgehand/forge";
import type { CommandJob, Trigger } from "@forgehand/queue";
import { afterEach, describe, expect, it } from "vitest";
import { type EmulatedRole, type ForgeEmulator, startForgeEmulator } from "../../../../test/support/forge-emulator";
import { type CommandDeps, handleCommandJob } from "./handle-command-job";

const config = (extra: Record<string, unknown> = {}): Config =>
  parseConfig(
    {
      agents: { a: { command: ["echo"] } },
      stages: [
        { name: "analyse", label: "agent:analyse", agent: "a", prompt: "inline:x", next: "develop" },
        { name: "develop", label: "agent:develop", agent: "a", prompt: "inline:y" },
      ],
      ...extra,
    },
    {},
  ).config;

let emu: ForgeEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

type Flavour = "github" | "gitea";

async function setup(flavour: Flavour, cfg: Config = config()) {
  await emu?.close();
  emu = await startForgeEmulator({ flavour });
  emu.addRepo("acme/app");
  emu.setPermission("acme/app", "forgehand-bot", "admin");
  emu.addIssue("acme/app", { number: 3, title: "Bug" });
  const forge: ForgeClient =
    flavour === "github"
      ? createGitHubClient({ apiUrl: emu.apiUrl, token: "test-token", throttle: false })
      : createGiteaClient({ url: emu.url, token: "test-token" });
  const ref: IssueRef = {
    repo: { forge: flavour, fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" },
    number: 3,
    isPr: false,
  };
  const calls: {
    stop: string[];
    enqueue: [string, Trigger, { resumeSessionId?: string } | undefined][];
    refresh: number;
  } = {
    stop: [],
    enqueue: [],
    refresh: 0,
  };
  let last: RunRecord | null = null;
  let running = false;
  const deps: CommandDeps = {
    config: cfg,
    forge,
    botLogin: "forgehand-bot",
    permissions: createPermissionCache(60_000),
    logger: silentLogger,
    async stop(_ref, by) {
      calls.stop.push(by);
      return running ? { runId: "r-live", wasRunning: true } : { wasRunning: false };
    },
    async enqueueStage(_ref, stage, trigger, opts) {
      calls.enqueue.push([stage, trigger, opts]);
      return `r-${calls.enqueue.length}`;
    },
    lastRun: async () => last,
    async refreshStatus() {
      calls.refresh++;
    },
  };
  const e = emu;
  const send = async (login: string, body: string, commands: SlashCommand[], association?: string) => {
    e.state.users.add(login);
    const { commentId } = e.commentAsUser("acme/app", 3, login, body);
    const job: CommandJob = {
      kind: "command",
      ref,
      commentId,
      sender: { login, ...(association ? { authorAssociation: association } : {}) },
      commands,
      deliveryId: `d-${commentId}`,
      requestedAt: Date.now(),
    };
    await handleCommandJob(job, deps);
    return commentId;
  };
  const repoState = () => e.state.repos.get("acme/app")!;
  const reactionsOn = (id: number) =>
    repoState()
      .reactions.filter((r) => r.commentId === id)
      .map((r) => r.content);
  const botReplies = () =>
    repoState()
      .comments.filter((c) => c.author === "forgehand-bot")
      .map((c) => c.body);
  return {
    emu: e,
    deps,
    calls,
    send,
    reactionsOn,
    botReplies,
    setLast: (r: RunRecord | null) => {
      last = r;
    },
    setRunning: (v: boolean) => {
      running = v;
    },
  };
}

const lastRun: RunRecord = {
  id: "r-old",
  forge: "github",
  repo: "acme/app",
  issue: 3,
  isPr: false,
  stage: "develop",
  state: "failed",
  createdAt: 1,
  turns: 3,
  costUsd: 0.1,
  attempts: 1,
  sessionId: "sess-42",
  lastActions: [],
};

for (const flavour of ["github", "gitea"] as const) {
  describe(`slash commands on ${flavour}`, () => {
    it("/stop stops the run and reacts 👀 then 👍", async () => {
      const t = await setup(flavour);
      t.emu.setPermission("acme/app", "alice", "write");
      t.setRunning(true);
      const id = await t.send("alice", "/stop", [{ name: "stop" }]);
      expect(t.calls.stop).toEqual(["alice"]);
      expect(t.reactionsOn(id)).toEqual(["eyes", "+1"]);
      expect(t.botReplies()).toEqual([]);
    });

    it("/stop with nothing running says so", async () => {
      const t = await setup(flavour);
      t.emu.setPermission("acme/app", "alice", "write");
      await t.send("alice", "/stop", [{ name: "stop" }]);
      expect(t.botReplies()).toEqual(["@alice Nothing is running on this issue."]);
    });

    it("/retry re-enqueues the last stage resuming its session", async () => {
      const t = await setup(flavour);
      t.emu.setPermission("acme/app", "alice", "admin");
      t.setLast(lastRun);
      const id = await t.send("alice", "/retry", [{ name: "retry" }]);
      expect(t.calls.enqueue).toEqual([
        ["develop", { kind: "retry", by: "alice", deliveryId: `d-${id}` }, { resumeSessionId: "sess-42" }],
      ]);
      expect(t.reactionsOn(id)).toEqual(["eyes", "+1"]);
      expect(t.botReplies()[0]).toMatch(/Retrying stage `develop` \(run `r-1`, resuming the agent session\)/);
    });

    it("/retry without an earlier run, or while one is live, enqueues nothing and reacts 😕", async () => {
      const t = await setup(flavour);
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
      const t = await setup(flavour);
      t.emu.setPermission("acme/app", "alice", "maintain");
      const ok = await t.send("alice", "/run Analyse", [{ name: "run", stage: "Analyse" }]);
      expect(t.calls.enqueue.map(([s, tr]) => [s, tr.kind])).toEqual([["analyse", "command"]]);
      expect(t.reactionsOn(ok)).toEqual(["eyes", "+1"]);
      const bad = await t.send("alice", "/run deploy`rm -rf`", [{ name: "run", stage: "deploy`rm -rf`" }]);
      expect(t.calls.enqueue).toHaveLength(1);
      expect(t.reactionsOn(bad)).toEqual(["eyes", "confused"]);
      expect(t.botReplies().at(-1)).toBe("@alice Unknown stage `deployrm -rf`. Stages: `analyse`, `develop`.");
    });

    it("/status refreshes, /help lists commands and stages, unknown commands get the list", async () => {
      const t = await setup(flavour);
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
        const t = await setup(flavour);
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
      const t = await setup(flavour);
      t.setRunning(true);
      await t.send("forgehand-bot", "/stop", [{ name: "stop" }]);
      await t.send("FORGEHAND-BOT", "/stop", [{ name: "stop" }]);
      await t.send("renovate[bot]", "/stop", [{ name: "stop" }]);
      expect(t.calls.stop).toEqual([]);
      const api = t.emu.calls.filter((c) => c.path.includes("reactions") || c.path.includes("permission"));
      expect(api).toEqual([]);
      const t2 = await setup(flavour, config({ commands: { allowUsers: ["renovate[bot]"] } }));
      t2.setRunning(true);
      await t2.send("renovate[bot]", "/stop", [{ name: "stop" }]);
      expect(t2.calls.stop).toEqual(["renovate[bot]"]);
    });

    it("allowUsers grants a login whatever its forge permission", async () => {
      const t = await setup(flavour, config({ commands: { allowUsers: ["Carol"] } }));
      t.emu.setPermission("acme/app", "carol", "read");
      t.setRunning(true);
      await t.send("carol", "/stop", [{ name: "stop" }]);
      expect(t.calls.stop).toEqual(["carol"]);
    });

    it("survives 429/403 rate limits with Retry-After on reactions and replies", async () => {
      const t = await setup(flavour);
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

describe("GitHub author_association", () => {
  it("denies NONE / FIRST_TIMER without asking the API, but never grants more than the API says", async () => {
    const t = await setup("github");
    t.emu.setPermission("acme/app", "dave", "write");
    t.setRunning(true);
    await t.send("dave", "/stop", [{ name: "stop" }], "FIRST_TIMER");
    expect(t.calls.stop).toEqual([]);
    expect(t.emu.calls.some((c) => c.path.includes("/permission"))).toBe(false);
    t.emu.setPermission("acme/app", "erin", "read");
    await t.send("erin", "/stop", [{ name: "stop" }], "OWNER");
    expect(t.calls.stop).toEqual([]);
    expect(t.emu.calls.some((c) => c.path.includes("/collaborators/erin/permission"))).toBe(true);
  });

  it("caches the permission answer briefly", async () => {
    const t = await setup("github");
    t.emu.setPermission("acme/app", "alice", "write");
    await t.send("alice", "/status", [{ name: "status" }]);
    await t.send("alice", "/status", [{ name: "status" }]);
    expect(t.emu.calls.filter((c) => c.path.includes("/permission"))).toHaveLength(1);
    expect(t.calls.refresh).toBe(2);
  });
});

describe("permission lookup failures", () => {
  it("reacts 😕 and rethrows so the job is retried, without acting", async () => {
    const t = await setup("gitea");
    t.emu.setPermission("acme/app", "alice", "write");
    t.setRunning(true);
    t.emu.failNext("GET /repos/acme/app/collaborators/alice/permission", { status: 502, times: 5 });
    const { commentId } = t.emu.commentAsUser("acme/app", 3, "alice", "/stop");
    const job: CommandJob = {
      kind: "command",
      ref: {
        repo: { forge: "gitea", fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" },
        number: 3,
        isPr: false,
      },
      commentId,
      sender: { login: "alice" },
      commands: [{ name: "stop" }],
      deliveryId: "d1",
      requestedAt: Date.now(),
    };
    await expect(handleCommandJob(job, t.deps)).rejects.toMatchObject({ status: 502 });
    expect(t.calls.stop).toEqual([]);
    expect(t.reactionsOn(commentId)).toEqual(["eyes", "confused"]);
  });
});
