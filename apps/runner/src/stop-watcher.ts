import type { Logger } from "@forgehand/core";
import { readStop, StopRequest, stopChannel } from "@forgehand/queue";
import type { Redis } from "ioredis";

/** A live run the watcher may stop. */
export interface WatchedRun {
  runId: string;
  issue: string;
  /** Only issue-wide stops at or after this time apply (a newer trigger is not stopped by an old /stop). */
  requestedAt: number;
  onStop(request: StopRequest): void;
}

export interface StopWatcher {
  /** Watches a run until the returned function is called. */
  watch(run: WatchedRun): () => void;
  close(): Promise<void>;
}

/** True when `request` is meant for `run`. */
export function stopApplies(request: StopRequest, run: { runId: string; issue: string; requestedAt: number }): boolean {
  if (request.runId === run.runId) return true;
  return request.issue === run.issue && request.at >= run.requestedAt;
}

/** The persisted stop request that applies to a run (live or queued), if any. */
export async function pendingStop(
  redis: Redis,
  prefix: string,
  run: { runId: string; issue: string; requestedAt: number },
): Promise<StopRequest | null> {
  const byRun = await readStop(redis, prefix, { runId: run.runId });
  if (byRun) return byRun;
  const byIssue = await readStop(redis, prefix, { issue: run.issue });
  return byIssue && byIssue.at >= run.requestedAt ? byIssue : null;
}

/**
 * Stops live runs on request: pub/sub for speed, plus a poll of the persisted flags
 * every `pollMs` so a message missed during a reconnect still stops the run.
 */
export function createStopWatcher(opts: {
  subscriber: Redis;
  redis: Redis;
  prefix: string;
  pollMs: number;
  logger: Logger;
}): StopWatcher {
  const { subscriber, redis, prefix, logger } = opts;
  const runs = new Set<WatchedRun>();
  const fire = (run: WatchedRun, request: StopRequest) => {
    if (!runs.delete(run)) return;
    logger.info("stop request reached the run", { runId: run.runId, by: request.by, reason: request.reason });
    run.onStop(request);
  };
  const channel = stopChannel(prefix);
  void subscriber.subscribe(channel).catch((error) => logger.warn("stop channel subscribe failed", { error }));
  subscriber.on("message", (ch: string, message: string) => {
    if (ch !== channel) return;
    let parsed: StopRequest;
    try {
      parsed = StopRequest.parse(JSON.parse(message));
    } catch {
      logger.warn("malformed stop request ignored", { message: message.slice(0, 200) });
      return;
    }
    for (const run of [...runs]) if (stopApplies(parsed, run)) fire(run, parsed);
  });
  const timer = setInterval(async () => {
    for (const run of [...runs]) {
      try {
        const request = await pendingStop(redis, prefix, run);
        if (request) fire(run, request);
      } catch (error) {
        logger.debug("stop flag poll failed", { runId: run.runId, error });
      }
    }
  }, opts.pollMs);
  return {
    watch(run) {
      runs.add(run);
      return () => runs.delete(run);
    },
    async close() {
      clearInterval(timer);
      runs.clear();
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
