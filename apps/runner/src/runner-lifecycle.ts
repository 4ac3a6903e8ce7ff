import type { Logger } from "@forgehand/core";
import type { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { abortRun } from "./abort-cause";
import type { RunnerLiveness } from "./runner-liveness";
import type { StopWatcher } from "./stop-watcher";
import type { WorktreeSweeper } from "./workspace/worktree-sweeper";

/** What `start()` opened so far, filled in as it goes: `close()` undoes exactly that, even after a failed start. */
export interface RunnerResources {
  redis?: Redis;
  /** The stage worker's own connection. */
  workerConn?: Redis;
  /** The command worker's own connection. */
  commandConn?: Redis;
  queue?: Queue;
  watcher?: StopWatcher;
  stageWorker?: Worker;
  commandWorker?: Worker;
  sweeper?: WorktreeSweeper;
  liveness?: RunnerLiveness;
}

/**
 * Starts once and closes once; a close during start waits for it, since tearing down half-made
 * connections races their handshakes. Holds what was opened and the runs still live.
 */
export class RunnerLifecycle {
  /** Live runs of this runner by run id, so `close()` can stop them. */
  readonly live = new Map<string, AbortController>();
  readonly opened: RunnerResources = {};
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** True once `close()` was called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** Runs `startOnce` on the first call; every call returns its promise. */
  start(startOnce: () => Promise<void>): Promise<void> {
    this.#starting ??= startOnce();
    return this.#starting;
  }

  /** Waits for a start in progress (failed or not), then tears down on the first call; later calls share it. */
  close(teardown: () => Promise<void>): Promise<void> {
    this.#closing ??= (async () => {
      await this.#starting?.catch(() => {});
      await teardown();
    })();
    return this.#closing;
  }
}

/**
 * Stops taking jobs, gives live runs `graceMs` to finish, then aborts them (`shutdown`: they go back to the
 * queue), and closes what was opened: the sweeper before the Redis connection its leases use.
 */
export async function closeResources(lifecycle: RunnerLifecycle, graceMs: number, logger: Logger): Promise<void> {
  const { opened, live } = lifecycle;
  // Stops after the worktree it is removing; awaited before the Redis connection its leases use closes.
  const sweepDone = opened.sweeper?.close();
  // Stop fetching; close() resolves once the active jobs' processors returned.
  const closed = Promise.all([opened.stageWorker?.close(), opened.commandWorker?.close()]);
  const deadline = Date.now() + graceMs;
  while (live.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (live.size > 0) logger.info("shutdown grace over; stopping running agents", { runs: [...live.keys()] });
  for (const controller of live.values()) abortRun(controller, { kind: "shutdown" });
  await closed;
  // Withdrawn only once the jobs went back: a runner killed mid-close still reads as dead to its peers.
  await opened.liveness?.close();
  await sweepDone;
  await opened.queue?.close();
  await opened.watcher?.close();
  for (const conn of [opened.workerConn, opened.commandConn, opened.redis])
    await conn?.quit().catch(() => conn.disconnect());
}
