import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, type IssueRef, type RunRecord, silentLogger } from "@forgehand/core";
import { createRunStore, type RunStore, STAGE_QUEUE } from "@forgehand/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterEach, beforeEach } from "vitest";
import { testRedis, testRedisUrl, uniquePrefix } from "../../../../test/helpers/redis";
import { createRunner, type Runner } from "../create-runner";
import { MemoryForge, memoryForges } from "./memory-forge";
import { directoryWorkspaces, fixtureRepo } from "./runner-fixture";
import { waitForRunEnd } from "./wait-for-run-end";

/** Runner timings for in-process tests: short leases and polls. */
export const FAST = { leaseTtlMs: 3_000, stopPollMs: 200, lockedRetryMs: 100, progressIntervalMs: 100 };
/** How the waits poll: tight, as the runner's own timings are. */
export const POLL = { timeoutMs: 20_000, intervalMs: 50 };

/** The fixture agent's `FIXTURE_LOG` lines: `<kind> <runId> <pid> <at>`. */
export function events(logFile: string): { kind: string; runId: string; pid: number; at: number }[] {
  let text = "";
  try {
    text = readFileSync(logFile, "utf8");
  } catch {}
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [kind, runId, pid, at] = l.split(" ");
      return { kind: kind as string, runId: runId as string, pid: Number(pid), at: Number(at) };
    });
}

/** What each in-process runner test gets afresh: a temp dir, Redis with a unique prefix, a stage queue, a forge. */
export interface RunnerTestState {
  dir: string;
  redis: Redis;
  store: RunStore;
  prefix: string;
  queue: Queue;
  forge: MemoryForge;
}

/** Issue #7 of acme/app, the one the memory forge holds. */
export const ref: IssueRef = { repo: fixtureRepo(), number: 7, isPr: false };

/**
 * Registers the per-test setup and teardown of in-process runner tests (call it inside `describe`).
 * `state()` is the current test's state; runners made with `start()` are closed after each test.
 */
export function useRunnerHarness() {
  let current: RunnerTestState | undefined;
  const runners: Runner[] = [];
  const state = (): RunnerTestState => {
    if (!current) throw new Error("[test] runner harness used outside a test");
    return current;
  };

  beforeEach(() => {
    const redis = testRedis();
    const prefix = uniquePrefix("runner");
    const forge = new MemoryForge();
    forge.addIssue({ number: 7, title: "Login fails", body: "Steps: $(rm -rf /) `x`", labels: ["agent:develop"] });
    current = {
      dir: mkdtempSync(join(tmpdir(), "fh-runner-")),
      redis,
      store: createRunStore(redis, prefix),
      prefix,
      queue: new Queue(STAGE_QUEUE, { connection: redis, prefix }),
      forge,
    };
  });
  afterEach(async () => {
    const { queue, redis, dir } = state();
    for (const r of runners.splice(0)) await r.close({ graceMs: 0 });
    await queue.close();
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
    current = undefined;
  });

  /** A runner on directory workspaces under the test dir; not started yet. */
  function start(
    config: Config,
    over: { env?: NodeJS.ProcessEnv; timings?: object; id?: string; concurrency?: number } = {},
  ) {
    const { dir, prefix, forge } = state();
    const runner = createRunner({
      config,
      configDir: dir,
      redisUrl: testRedisUrl(),
      prefix,
      forges: memoryForges(forge),
      logger: silentLogger,
      dataDir: join(dir, over.id ?? "data"),
      concurrency: over.concurrency ?? 2,
      runnerId: over.id ?? "r1",
      env: over.env ?? { PATH: process.env.PATH, HOME: dir, GITHUB_TOKEN: "ghp_secret_should_not_leak" },
      timings: { ...FAST, ...over.timings },
      overrides: { workspaces: directoryWorkspaces(join(dir, "ws")) },
    });
    runners.push(runner);
    return runner;
  }

  const trigger = (id: string) => ({ kind: "label" as const, by: "alice", deliveryId: id });
  const ended = (runId: string): Promise<RunRecord> => waitForRunEnd(state().store, runId, POLL);

  return { state, start, trigger, ended };
}
