import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { IssueRef } from "@forgehand/core";
import { type RedisServerHandle, type RunStore, startRedisServer } from "@forgehand/queue";
import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl } from "../../../test/helpers/redis";
import { waitFor } from "../../../test/helpers/wait-for";
import { enqueueStage } from "./enqueue-stage";
import { anyAlive, fixtureAgentPids } from "./testing/fixture-agent-pids";
import { fixtureRepo } from "./testing/runner-fixture";
import {
  type AgentEvent,
  agentEvents,
  type RunnerProcessOptions,
  runnerProcessTestbed,
  spawnRunnerProcess,
} from "./testing/runner-processes";

/** Asserts that no two agent runs overlapped in time, and returns the runs as intervals. */
function expectNoOverlap(events: AgentEvent[]) {
  // Sandboxed agents log their pid inside their own pid namespace (the same small number every time): a start
  // is paired with the next end of the same run id and pid.
  const open = new Map<string, { runId: string; start: number; end?: number }>();
  const all: { runId: string; start: number; end?: number }[] = [];
  for (const e of events) {
    const key = `${e.runId}/${e.pid}`;
    if (e.kind === "start") {
      const run = { runId: e.runId, start: e.at };
      all.push(run);
      open.set(key, run);
    } else {
      const run = open.get(key);
      if (run) run.end = e.at;
      open.delete(key);
    }
  }
  const runs = all.sort((a, b) => a.start - b.start);
  for (let i = 1; i < runs.length; i++) {
    const prev = runs[i - 1] as { start: number; end?: number; runId: string };
    const cur = runs[i] as { start: number; runId: string };
    expect(prev.end, `run ${prev.runId} never ended before ${cur.runId} started`).toBeDefined();
    expect(cur.start, `${cur.runId} started while ${prev.runId} ran`).toBeGreaterThanOrEqual(prev.end as number);
  }
  return runs;
}

/** How the waits below poll: runner processes report within a minute on a busy machine. */
const POLL = { timeoutMs: 60_000, intervalMs: 100 };

describe("several runner processes on one Redis", () => {
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  const setup = (redisUrl: string) => runnerProcessTestbed(redisUrl, "multi", cleanups);

  const spawnRunner = async (opts: RunnerProcessOptions) => (await spawnRunnerProcess(opts, children)).child;

  const ref = (): IssueRef => ({ repo: fixtureRepo(), number: 7, isPr: false });
  const terminal = (store: RunStore, id: string) =>
    store.get(id).then((r) => (r && !["queued", "running"].includes(r.state) ? r : undefined));

  it("100 triggers for one issue over 3 runner processes: agents never overlap, none is lost", async () => {
    const { dir, prefix, store, queue, log } = setup(testRedisUrl());
    const timings = { leaseTtlMs: 5_000, lockedRetryMs: 100, stopPollMs: 500, progressIntervalMs: 500 };
    await Promise.all(
      ["a", "b", "c"].map((id) =>
        spawnRunner({
          id,
          redisUrl: testRedisUrl(),
          prefix,
          dataDir: join(dir, id),
          agentEnv: { FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "10" },
          timings,
        }),
      ),
    );
    const ids: string[] = [];
    for (let i = 0; i < 100; i++)
      ids.push(
        await enqueueStage(queue, store, {
          ref: ref(),
          stage: "develop",
          // Operator runs: label runs would (rightly) not start once the first success removed the label.
          trigger: { kind: "operator", by: "x", deliveryId: `d${i}` },
        }),
      );
    expect(new Set(ids).size).toBe(100);
    const records = await waitFor(
      "all 100 runs to end",
      async () => {
        const all = await Promise.all(ids.map((id) => terminal(store, id)));
        return all.every(Boolean) ? all : undefined;
      },
      { ...POLL, timeoutMs: 150_000 },
    );
    expect(records.map((r) => r?.state)).toEqual(ids.map(() => "succeeded"));
    const runs = expectNoOverlap(agentEvents(log));
    expect(runs).toHaveLength(100);
    expect(new Set(runs.map((r) => r.runId))).toEqual(new Set(ids));
    expect(new Set(records.map((r) => r?.runner)).size).toBeGreaterThan(1);
  }, 180_000);

  it("a SIGKILLed runner's job is finished by another after the lease lapses; its guardian kills its agent", async () => {
    const { dir, prefix, store, queue, log } = setup(testRedisUrl());
    const timings = {
      leaseTtlMs: 2_000,
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
      lockedRetryMs: 300,
      stopPollMs: 500,
    };
    const agentEnv = {
      FIXTURE_LOG: log,
      FIXTURE_COUNT: join(dir, "count"),
      FIXTURE_SLEEP_FIRST_MS: "120000",
      FIXTURE_SLEEP_MS: "100",
    };
    const base = { redisUrl: testRedisUrl(), prefix, agentEnv, timings, concurrency: 1 };
    const a = await spawnRunner({ ...base, id: "a", dataDir: join(dir, "a") });
    const runId = await enqueueStage(queue, store, {
      ref: ref(),
      stage: "develop",
      // The fixture runner's issue carries no stage label: an operator run needs none.
      trigger: { kind: "operator", by: "x", deliveryId: "k1" },
    });
    await waitFor("first agent", () => agentEvents(log)[0], POLL);
    const firstPids = await waitFor(
      "first agent's host pid",
      () => {
        const pids = fixtureAgentPids(log);
        return pids.length > 0 ? pids : undefined;
      },
      POLL,
    );
    await spawnRunner({ ...base, id: "b", dataDir: join(dir, "b") });
    a.kill("SIGKILL");
    // The dead runner's guardian (packages/supervisor) kills its agent at once: no restart on its data dir needed.
    await waitFor("orphan agent killed by the guardian", () => !anyAlive(firstPids), { ...POLL, timeoutMs: 15_000 });
    const record = await waitFor("run to end on runner b", () => terminal(store, runId), POLL);
    expect(record).toMatchObject({ state: "succeeded", runner: "b", attempts: 2 });
    expect(agentEvents(log).filter((e) => e.kind === "start")).toHaveLength(2);
    // A restart on the dead runner's data dir still starts cleanly (nothing left to reap).
    await spawnRunner({ ...base, id: "a2", dataDir: join(dir, "a") });
    expect((await queue.getJobCounts("completed", "failed", "active", "delayed", "wait")).failed).toBe(0);
  }, 120_000);

  it("Redis restarted mid-run (AOF on): the run completes, once", async () => {
    const redisDir = mkdtempSync(join(tmpdir(), "fh-multi-redis-"));
    let server: RedisServerHandle = await startRedisServer({ dataDir: redisDir, persistence: true });
    cleanups.push(() => rmSync(redisDir, { recursive: true, force: true }));
    cleanups.push(() => server.stop());
    const { dir, prefix, store, queue, log } = setup(server.url);
    const timings = { leaseTtlMs: 10_000, lockedRetryMs: 300, stopPollMs: 500, progressIntervalMs: 200 };
    await spawnRunner({
      id: "r",
      redisUrl: server.url,
      prefix,
      dataDir: join(dir, "r"),
      agentEnv: { FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "3000" },
      timings,
    });
    const runId = await enqueueStage(queue, store, {
      ref: ref(),
      stage: "develop",
      // The fixture runner's issue carries no stage label: an operator run needs none.
      trigger: { kind: "operator", by: "x", deliveryId: "rr" },
    });
    await waitFor("agent start", () => agentEvents(log)[0], POLL);
    await server.stop();
    await sleep(500);
    server = await startRedisServer({ dataDir: redisDir, persistence: true, port: server.port });
    const record = await waitFor("run to end", () => terminal(store, runId), POLL);
    expect(record.state).toBe("succeeded");
    expectNoOverlap(agentEvents(log));
    await sleep(1_000);
    const counts = await queue.getJobCounts("completed", "failed", "active", "delayed", "wait");
    expect(counts).toMatchObject({ completed: 1, failed: 0, active: 0, delayed: 0, wait: 0 });
    expect((await store.list()).map((r) => r.id)).toEqual([runId]);
  }, 120_000);
});
