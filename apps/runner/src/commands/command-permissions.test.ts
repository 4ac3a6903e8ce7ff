import type { CommandJob } from "@forgehand/queue";
import { afterEach, describe, expect, it } from "vitest";
import { closeCommandTest, startCommandTest } from "../testing/command-test";
import { handleCommandJob } from "./handle-command-job";

afterEach(closeCommandTest);

describe("GitHub author_association", () => {
  it("denies NONE / FIRST_TIMER without asking the API, but never grants more than the API says", async () => {
    const t = await startCommandTest("github");
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
    const t = await startCommandTest("github");
    t.emu.setPermission("acme/app", "alice", "write");
    await t.send("alice", "/status", [{ name: "status" }]);
    await t.send("alice", "/status", [{ name: "status" }]);
    expect(t.emu.calls.filter((c) => c.path.includes("/permission"))).toHaveLength(1);
    expect(t.calls.refresh).toBe(2);
  });
});

describe("permission lookup failures", () => {
  it("reacts 😕 and rethrows so the job is retried, without acting", async () => {
    const t = await startCommandTest("gitea");
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
