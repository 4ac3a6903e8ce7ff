import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createBareOrigin } from "../../../test/helpers/bare-origin";
import { testRedisUrl } from "../../../test/helpers/redis";
import { waitFor } from "../../../test/helpers/wait-for";
import { enqueueStage } from "./enqueue-stage";
import { heartbeatKey } from "./runner-beacon";
import { fixtureRepo } from "./testing/runner-fixture";
import { agentEvents, runnerProcessTestbed, spawnRunnerProcess } from "./testing/runner-processes";

const POLL = { timeoutMs: 60_000, intervalMs: 50 };

// Real runner processes, real git, production timings: runner a's agent finishes and its branch is pushed, then
// a is SIGKILLed while it waits for the forge to open the PR (FH_HANG). Runner b must publish, not re-run the agent.
describe("a runner SIGKILLed while publishing", () => {
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it("after its agent finished: a peer publishes the checkpoint; the agent ran once, the branch was pushed once", async () => {
    const { dir, prefix, redis, store, queue, log } = runnerProcessTestbed(testRedisUrl(), "takeover", cleanups);
    const origin = createBareOrigin(dir, { "README.md": "hello\n" });
    const base = {
      redisUrl: testRedisUrl(),
      prefix,
      agentEnv: { FIXTURE_LOG: log, FIXTURE_WRITE: "greeting.txt" },
      timings: {},
      concurrency: 1,
    };
    const stage = JSON.stringify({ openPullRequest: true });
    const a = await spawnRunnerProcess(
      {
        ...base,
        id: "a",
        dataDir: join(dir, "a"),
        env: { FH_GIT: "1", FH_STAGE: stage, FH_HANG: "findOrCreatePullRequest" },
      },
      children,
    );
    const runId = await enqueueStage(queue, store, {
      ref: { repo: fixtureRepo(`file://${origin.path}`), number: 7, isPr: false },
      stage: "develop",
      trigger: { kind: "operator", by: "x", deliveryId: "t1" },
    });
    const pushed = await waitFor(
      "a's checkpoint with the push done",
      async () => {
        const cp = (await store.get(runId))?.checkpoint;
        return cp?.done.some((d) => d.startsWith("pushing ")) ? cp : undefined;
      },
      POLL,
    );
    const tip = origin.git("rev-parse", pushed.branch);
    expect(tip).toBe(pushed.head);
    const b = await spawnRunnerProcess(
      { ...base, id: "b", dataDir: join(dir, "b"), env: { FH_GIT: "1", FH_STAGE: stage } },
      children,
    );
    await waitFor("b's heartbeat", () => redis.exists(heartbeatKey(prefix, "b")), POLL);
    a.child.kill("SIGKILL");
    const record = await waitFor(
      "the run to end on b",
      async () => {
        const r = await store.get(runId);
        return r && !["queued", "running"].includes(r.state) ? r : undefined;
      },
      POLL,
    );
    expect(record, b.output()).toMatchObject({ state: "succeeded", runner: "b", attempts: 2 });
    expect(
      agentEvents(log).filter((e) => e.kind === "start"),
      "the agent ran again",
    ).toHaveLength(1);
    expect(record.prUrl).toMatch(/\/pull\/\d+$/);
    const lines = (await store.readLog(runId)).map((e) => e.line).join("\n");
    expect(lines).toContain("publishing its work without running it again");
    // b had no worktree of a's: what it published is what a pushed, untouched.
    expect(origin.git("rev-parse", pushed.branch)).toBe(tip);
    expect(origin.git("show", `${pushed.branch}:greeting.txt`)).toContain(runId);
  }, 120_000);
});
