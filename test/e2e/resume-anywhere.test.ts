import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { countToolResults, type MessagesRequest, type Script, systemText } from "../support/model-server";
import { DEVELOP_STAGE } from "./harness/e2e-config";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Issue 14 §6: `/retry` on a runner that never ran the session (its own process, data dir and HOME). The first
// run writes the wrong file (the gate fails) and ends saying FIRST-RUN-OUTPUT; the second, on another runner,
// either resumes that session from Redis or, when the saved state is unusable, starts fresh with that output.
const FIRST_OUTPUT = "FIRST-RUN-OUTPUT: wrote wrong.txt";
const WORKTREE = /(\/[^\s"'\\]*\/workspaces\/worktrees\/github\/acme\/widgets\/\d+)/g;
/**
 * The agent's cwd: the worktree as this request's system prompt names it, else the last one the request
 * mentions (a resumed conversation also holds the first runner's paths, earlier).
 */
function worktreeOf(req: MessagesRequest): string {
  const fromSystem = systemText(req).match(WORKTREE)?.[0];
  const any = JSON.stringify(req).match(WORKTREE)?.at(-1);
  const found = fromSystem ?? any;
  if (!found) throw new Error("[e2e] no worktree path in the request");
  return found;
}
const script: Script = (req, ctx) => {
  const body = JSON.stringify(req);
  const write = (file: string, content: string) => ({
    toolUse: { name: "Write", input: { file_path: join(worktreeOf(req), file), content } },
  });
  if (!body.includes("FIRST-RUN-OUTPUT"))
    return ctx.toolResults > 0 ? { text: FIRST_OUTPUT } : write("wrong.txt", "oops\n");
  if (body.includes("hello.txt")) return { text: "Wrote hello.txt." };
  return write("hello.txt", "hello\n");
};

let world: E2eWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) {
    console.error(world.diagnose());
    for (const run of await world.runs()) {
      const res = await fetch(`${world.forgehand.url}/api/runs/${run.id}/log`, {
        headers: { authorization: "Bearer e2e-api-token" },
      });
      console.error(`run ${run.id} ${run.state} ${run.reason}:\n${(await res.text()).slice(-4000)}`);
    }
  }
  await world?.close();
  world = undefined;
});

/** A run's log, from forgehand's API. */
async function runLog(w: E2eWorld, runId: string): Promise<string> {
  const res = await fetch(`${w.forgehand.url}/api/runs/${runId}/log`, {
    headers: { authorization: "Bearer e2e-api-token" },
  });
  return res.text();
}

async function failOnRunnerA(prefix: string) {
  world = await startE2eWorld({ script, stages: [DEVELOP_STAGE], redisUrl: testRedisUrl(), prefix });
  const w = world;
  const issue = w.openIssue("Resume me");
  await w.addLabel(issue, "agent:develop");
  const failed = await waitFor("the first run to fail its gate", async () =>
    (await w.runs()).find((r) => r.state === "failed"),
  );
  expect(failed.reason).toContain("gate");
  await waitFor("the failed label", () => w.labels(issue).includes("forgehand:failed"));
  // Runner A is gone; B has never seen the session: its HOME and data dir are its own.
  await w.replaceRunner("b");
  return { w, issue, failed };
}

const succeeded = (w: E2eWorld) =>
  waitFor("the retried run to succeed", async () => (await w.runs()).find((r) => r.state === "succeeded"), {
    timeoutMs: 150_000,
    intervalMs: 500,
  });

describe("e2e: /retry on another runner", () => {
  it("resumes the session saved by the first runner", { timeout: 300_000 }, async () => {
    const { w, issue, failed } = await failOnRunnerA(uniquePrefix("e2e14r"));
    const before = w.model.mainRequests().length;
    await w.comment(issue, "/retry", "acme");
    const done = await succeeded(w);
    expect(done.runner).not.toBe(failed.runner);
    expect(done.sessionId).toBe(failed.sessionId);
    const resumed = w.model.mainRequests()[before]!;
    expect(resumed.headers["x-claude-code-session-id"]).toBe(failed.sessionId);
    // The resumed request carries the first session's messages: its Write of wrong.txt and its final text.
    expect(JSON.stringify(resumed.body)).toContain("wrong.txt");
    expect(JSON.stringify(resumed.body)).toContain(FIRST_OUTPUT);
    expect(w.origin.show(`forgehand/${issue}-resume-me`, "hello.txt")).toBe("hello");
    expect(await runLog(w, done.id)).toContain(`restored agent session ${failed.sessionId} (1 file)`);
    expect(w.survivors()).toEqual([]);
  });

  it("falls back once to a fresh session with the earlier output when the saved state is corrupt", {
    timeout: 300_000,
  }, async () => {
    const prefix = uniquePrefix("e2e14f");
    const { w, issue, failed } = await failOnRunnerA(prefix);
    const redis = new Redis(testRedisUrl());
    const keys = await redis.keys(`${prefix}:agent-session:*`);
    expect(keys).toHaveLength(1);
    await redis.set(keys[0]!, '{"v":1,"cli":"claude","files":[{"path":"../../../etc/x"');
    await redis.quit();
    const before = w.model.mainRequests().length;
    await w.comment(issue, "/retry", "acme");
    const done = await succeeded(w);
    expect(done.runner).not.toBe(failed.runner);
    expect(done.sessionId).not.toBe(failed.sessionId);
    const fresh = w.model.mainRequests().slice(before);
    // No conversation to resume: the fresh session's first request has the stage prompt plus the earlier output.
    const first = JSON.stringify(fresh[0]!.body);
    expect(first).toContain(FIRST_OUTPUT);
    // A new conversation: none of the first session's tool turns.
    expect(countToolResults(fresh[0]!.body as MessagesRequest)).toBe(0);
    expect(w.origin.show(`forgehand/${issue}-resume-me`, "hello.txt")).toBe("hello");
    const log = await runLog(w, done.id);
    expect(log).toContain(`saved agent session ${failed.sessionId} refused`);
    expect(log).toContain("could not resume its earlier session");
    expect(w.survivors()).toEqual([]);
  });
});
