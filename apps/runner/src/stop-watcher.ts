import type { Logger } from "@forgehand/core";
import { readStop, StopRequest, stopChannel } from "@forgehand/queue";
import type { Redis } from "ioredis";

/** A live run the watcher may stop. */
export interface WatchedRun {
  runId: string;
  issue: string;
  /** The run's stage: a stage-scoped stop (a removed stage label) applies only to runs of its stage. */
  stage: string;
  /** Only issue-wide stops at or after this time apply (a newer trigger is not stopped by an old /stop). */
  requestedAt: number;
  /** The bot's own login on the run's forge; see {@link isSelfInflicted}. */
  botLogin?: string;
  onStop(request: StopRequest): void;
}

/** What decides whether a stop request applies to a run. */
export type StopTarget = Pick<WatchedRun, "runId" | "issue" | "stage" | "requestedAt" | "botLogin">;

/**
 * True for the echo of the bot's own label removal. On success the runner removes the stage
 * label (run-stage.ts "publishing the result") while the run is still live and the next stage
 * may already be queued; the forge reports that removal as `unlabeled` by the bot, and a webhook
 * that does not know the bot's login turns it into an issue-wide `label_removed` stop. Obeying it
 * would abort the finishing run (killing its gate or push) and cancel the chained next stage.
 *
 * Why this rule and not "remove the label only once the record is terminal": reordering cannot
 * help the next stage, which is queued for the same issue and would still be cancelled by the
 * persisted issue-wide flag; and a label the bot failed to remove would leave a "succeeded" run
 * whose label still says it is working. A `label_removed` stop by the bot itself is never a
 * person's wish to stop, so dropping exactly those is safe: people's stops (other logins) and
 * `/stop`/operator stops (other reasons) still apply. Needs the login: env or discovery.
 */
export function isSelfInflicted(request: StopRequest, run: Pick<StopTarget, "botLogin">): boolean {
  return (
    request.reason === "label_removed" &&
    Boolean(run.botLogin) &&
    request.by.toLowerCase() === run.botLogin?.toLowerCase()
  );
}

export interface StopWatcher {
  /** Watches a run until the returned function is called. */
  watch(run: WatchedRun): () => void;
  close(): Promise<void>;
}

/** True when `request` is meant for `run`. */
export function stopApplies(request: StopRequest, run: StopTarget): boolean {
  if (isSelfInflicted(request, run)) return false;
  if (request.runId === run.runId) return true;
  if (request.stage !== undefined && request.stage !== run.stage) return false;
  return request.issue === run.issue && request.at >= run.requestedAt;
}

/** The persisted stop request that applies to a run (live or queued), if any. */
export async function pendingStop(redis: Redis, prefix: string, run: StopTarget): Promise<StopRequest | null> {
  const byRun = await readStop(redis, prefix, { runId: run.runId });
  if (byRun && stopApplies(byRun, run)) return byRun;
  const byIssue = await readStop(redis, prefix, { issue: run.issue, stage: run.stage });
  return byIssue && stopApplies(byIssue, run) ? byIssue : null;
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
  /** Called for every stop request heard on the channel (e.g. to bring forward delayed jobs it cancels). */
  onRequest?: (request: StopRequest) => void;
}): StopWatcher {
  const { subscriber, redis, prefix, logger } = opts;
  const runs = new Set<WatchedRun>();
  const fire = (run: WatchedRun, request: StopRequest) => {
    if (!runs.delete(run)) return;
    logger.info("stop request reached the run", { runId: run.runId, by: request.by, reason: request.reason });
    run.onStop(request);
  };
  const channel = stopChannel(prefix);
  // Without a listener ioredis prints every reconnect error to stderr, unlogged; the poll covers the gap.
  subscriber.on("error", (error) => logger.debug("stop channel connection error", { error }));
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
    opts.onRequest?.(parsed);
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
