import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IssueRef, RunCheckpoint } from "@forgehand/core";
import { createRunStore, type RunStore, STAGE_QUEUE } from "@forgehand/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BareOrigin, createBareOrigin } from "../../../test/helpers/bare-origin";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { waitFor } from "../../../test/helpers/wait-for";
import type { Runner } from "./create-runner";
import { enqueueStage } from "./enqueue-stage";
import { gitTestRunner } from "./testing/git-test-runner";
import { MemoryForge } from "./testing/memory-forge";
import { fixtureConfig, fixtureRepo } from "./testing/runner-fixture";
import { waitForRunEnd } from "./testing/wait-for-run-end";

const POLL = { timeoutMs: 60_000, intervalMs: 50 };

// A runner that dies after the agent finished leaves a `running` record with a checkpoint; the job comes back
// (BullMQ stalled check, runner-liveness.ts). Here the dead runner's record is written as it would have left it,
// so the window is exact: pushed, but no PR and no labels yet.
describe("checkpointed runs: a finished agent is published, not run again", () => {
  let dir: string;
  let origin: BareOrigin;
  let agentLog: string;
  let redis: Redis;
  let store: RunStore;
  let prefix: string;
  let queue: Queue;
  let forge: MemoryForge;
  let runner: Runner | undefined;
  let ref: IssueRef;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fh-checkpoint-"));
    origin = createBareOrigin(dir, { "README.md": "hello\n" });
    agentLog = join(dir, "agent.log");
    ref = { repo: fixtureRepo(`file://${origin.path}`), number: 21, isPr: false };
    redis = testRedis();
    prefix = uniquePrefix("checkpoint");
    store = createRunStore(redis, prefix);
    queue = new Queue(STAGE_QUEUE, { connection: redis, prefix });
    forge = new MemoryForge();
    forge.addIssue({ number: 21, title: "Add a greeting", body: "Please greet.", labels: ["agent:develop"] });
  });
  afterEach(async () => {
    await runner?.close({ graceMs: 0 });
    runner = undefined;
    await queue.close();
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  const agentStarts = () =>
    existsSync(agentLog)
      ? readFileSync(agentLog, "utf8")
          .split("\n")
          .filter((l) => l.startsWith("start")).length
      : 0;
  const logOf = async (runId: string) => (await store.readLog(runId)).map((e) => e.line).join("\n");
  const config = () =>
    fixtureConfig({ FIXTURE_WRITE: "greeting.txt", FIXTURE_LOG: agentLog }, { openPullRequest: true });
  const enqueue = (deliveryId: string) =>
    enqueueStage(queue, store, { ref, stage: "develop", trigger: { kind: "label", by: "a", deliveryId } });

  /** Runs one attempt to the end on a fresh runner, and returns its checkpoint. */
  async function firstRun(): Promise<RunCheckpoint> {
    runner = gitTestRunner({ config: config(), dir, prefix, forge, runnerId: "first" });
    await runner.start();
    const runId = await enqueue("d1");
    const record = await waitForRunEnd(store, runId, POLL);
    expect(record.state).toBe("succeeded");
    await runner.close({ graceMs: 0 });
    runner = undefined;
    const cp = record.checkpoint as RunCheckpoint;
    // Written before the first forge write, then step by step: what the re-picked job trusts.
    expect(cp.head).toBe(origin.git("rev-parse", record.branch as string));
    expect(cp.done).toEqual([`pushing ${record.branch}`, "removing label agent:develop", "adding label agent:review"]);
    return cp;
  }

  /** A second run left by a dead runner with `checkpoint`, picked up by another runner. */
  async function repicked(checkpoint: RunCheckpoint): Promise<string> {
    // The forge as the dead runner left it: the branch is pushed, nothing else happened.
    forge.pulls.length = 0;
    forge.addIssue({ number: 21, title: "Add a greeting", body: "Please greet.", labels: ["agent:develop"] });
    const runId = await enqueue("d2");
    await store.update(runId, { state: "running", runner: "dead", attempts: 1, checkpoint });
    runner = gitTestRunner({ config: config(), dir, prefix, forge, runnerId: "second" });
    await runner.start();
    return runId;
  }

  it("a re-picked job whose agent finished goes straight to publishing: one agent run, one PR, labels moved", async () => {
    const cp = await firstRun();
    const pushed = origin.git("rev-parse", cp.branch);
    const runId = await repicked({ ...cp, done: [`pushing ${cp.branch}`] });
    const record = await waitForRunEnd(store, runId, POLL);
    expect(record.state).toBe("succeeded");
    expect(agentStarts(), "the agent ran again").toBe(1);
    expect(await logOf(runId)).toContain("publishing its work without running it again (already done: pushing");
    expect(forge.pulls).toMatchObject([{ head: cp.branch }]);
    expect(record.prUrl).toBe(forge.pulls[0]?.url);
    expect(forge.labelsOf(21)).toEqual(["agent:review"]);
    // The push was not repeated (a second force-with-lease push of the same tip would have been refused anyway).
    expect(origin.git("rev-parse", cp.branch)).toBe(pushed);
    expect(record.output).toBe(cp.output);
  });

  it("a worktree that no longer holds the checkpoint's commit runs the agent again, and says why", async () => {
    const cp = await firstRun();
    const runId = await repicked({ ...cp, head: "0".repeat(40), done: [] });
    const record = await waitForRunEnd(store, runId, POLL);
    expect(record.state).toBe("succeeded");
    expect(agentStarts()).toBe(2);
    expect(await logOf(runId)).toContain("is not in this runner's worktree; running the agent again");
    expect(forge.pulls).toHaveLength(1);
  });

  it("an agent that ended before its work was committed: the re-picked job commits and publishes it, no second agent run", async () => {
    const cp = await firstRun();
    // As the agent left the worktree when its runner died: a change not yet committed, HEAD where it was.
    writeFileSync(join(cp.worktree, "farewell.txt"), "goodbye\n");
    const runId = await repicked({ ...cp, pending: true, committed: false, done: [] });
    const record = await waitForRunEnd(store, runId, POLL);
    expect(record.state).toBe("succeeded");
    expect(agentStarts(), "the agent ran again").toBe(1);
    expect(await logOf(runId)).toContain("before its work was committed; committing and publishing it");
    expect(origin.git("show", `${cp.branch}:farewell.txt`)).toBe("goodbye");
    expect(forge.pulls).toMatchObject([{ head: cp.branch }]);
  });

  it("an agent that ended before its commit, on a worktree since reset, runs again and says why", async () => {
    const cp = await firstRun();
    const runId = await repicked({ ...cp, head: "0".repeat(40), pending: true, committed: false, done: [] });
    const record = await waitForRunEnd(store, runId, POLL);
    expect(record.state).toBe("succeeded");
    expect(agentStarts()).toBe(2);
    expect(await logOf(runId)).toContain("its worktree is not here as it left it");
  });

  it("a run that ended but whose runner died before announcing it gets its final status comment on re-pick", async () => {
    const runId = await enqueue("d3");
    // What a runner killed between recording the end and the final status edit leaves: terminal, unannounced.
    const endedAt = Date.now();
    await store.update(runId, {
      state: "succeeded",
      runner: "dead",
      attempts: 1,
      startedAt: endedAt - 5_000,
      endedAt,
      output: "Greeting added.",
    });
    runner = gitTestRunner({ config: config(), dir, prefix, forge, runnerId: "second" });
    await runner.start();
    await waitFor("the end announced", async () => (await store.get(runId))?.announced === true, POLL);
    const status = forge.commentsOf(21).filter((c) => c.body.includes(`forgehand:run=${runId}`));
    expect(status).toHaveLength(1);
    expect(status[0]?.body).toContain("succeeded");
    expect(status[0]?.body).toContain("Greeting added.");
    expect(agentStarts(), "the agent ran again").toBe(0);
  });

  it("a run whose end was announced is not announced again", async () => {
    const runId = await enqueue("d4");
    const endedAt = Date.now();
    await store.update(runId, {
      state: "succeeded",
      attempts: 1,
      startedAt: endedAt - 5_000,
      endedAt,
      announced: true,
    });
    runner = gitTestRunner({ config: config(), dir, prefix, forge, runnerId: "second" });
    await runner.start();
    await waitFor("the job completed", async () => (await queue.getJobState(runId)) === "completed", POLL);
    expect(forge.commentsOf(21)).toEqual([]);
  });
});
