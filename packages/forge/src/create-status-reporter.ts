import { type IssueRef, type Logger, type RunRecord, silentLogger } from "@forgehand/core";
import { ForgeApiError, sleep } from "./forge-api-error";
import type { ForgeClient } from "./forge-client";
import { STATE_ICONS } from "./render-status-comment";
import { statusMarker } from "./status-marker";
import { isWriteDeferred } from "./write-budget";

export interface StatusReporterOptions {
  forge: ForgeClient;
  ref: IssueRef;
  runId: string;
  /** Minimum time between two edits while the run is live (`status.interval`). */
  intervalMs: number;
  render: (record: RunRecord) => string;
  logger?: Logger;
  /** Attempts for the final edit before giving up (logged, never thrown). @defaultValue 5 */
  finalAttempts?: number;
  /** First wait between final-edit attempts; doubles, or follows the forge's Retry-After. @defaultValue 1000 ms */
  retryBaseMs?: number;
}

export interface StatusReporter {
  /** Records the newest state; it lands at once the first time, then at most once per interval. */
  update(record: RunRecord): void;
  /** Lands `record` as the final edit, retrying through forge errors; resolves even if the forge stays down. */
  finish(record: RunRecord): Promise<void>;
  /** Lands the newest state now, ignoring the interval (`/status`). */
  flush(): Promise<void>;
  /** The status comment's id once it has been found or created. */
  commentId(): number | undefined;
}

/** The wait the forge asked for, when it named one. */
function waitFor(error: unknown): number | undefined {
  return error instanceof ForgeApiError ? error.retryAfterMs : undefined;
}

/** Keeps one run's status comment up to date: find-or-create by marker, coalesced edits, a guaranteed final edit. */
export function createStatusReporter(opts: StatusReporterOptions): StatusReporter {
  const log = (opts.logger ?? silentLogger).child({ runId: opts.runId });
  const marker = statusMarker(opts.runId);
  let latest: RunRecord | undefined;
  let dirty = false;
  let finished = false;
  let id: number | undefined;
  let lastBody: string | undefined;
  let lastLandedAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> | undefined;

  function safeRender(record: RunRecord): string {
    try {
      const body = opts.render(record);
      return body.includes(marker) ? body : `${marker}\n${body}`;
    } catch (error) {
      // The comment must still say how the run ended, even if the renderer is broken.
      log.error("status render failed, using a minimal body", { error });
      return `${marker}\n### ${STATE_ICONS[record.state]} forgehand · \`${record.stage}\` · ${record.state}\n\n(The full status could not be rendered; see the run log.)`;
    }
  }

  async function land(record: RunRecord, final = false): Promise<void> {
    const body = safeRender(record);
    if (body === lastBody) return;
    if (id === undefined) {
      // A restarted runner edits the comment it (or a previous runner) already posted.
      const found = await opts.forge.findCommentByMarker(opts.ref, marker);
      if (found) {
        id = found.id;
        if (found.body === body) {
          lastBody = body;
          return;
        }
      } else {
        id = (await opts.forge.createComment(opts.ref, body)).id;
        lastBody = body;
        return;
      }
    }
    // Intermediate edits yield to every other write when the installation's write budget is queued up.
    await opts.forge.updateComment(opts.ref.repo, id, body, { priority: final ? "urgent" : "low" });
    lastBody = body;
  }

  function push(): Promise<void> {
    const record = latest;
    if (!record) return Promise.resolve();
    dirty = false;
    const p = land(record)
      .catch((error: unknown) => {
        // A declined low-priority edit is coalescing, not a failure: the next edit carries the newer state.
        if (isWriteDeferred(error)) log.debug("status edit deferred by the write budget", { error });
        else log.warn("status comment edit failed, will retry", { error });
        if (latest === record) dirty = true;
      })
      .finally(() => {
        lastLandedAt = Date.now();
        if (inflight === p) inflight = undefined;
        if (dirty && !finished) schedule();
      });
    inflight = p;
    return p;
  }

  function schedule() {
    if (timer || inflight || finished) return;
    const wait =
      lastBody === undefined && lastLandedAt === Number.NEGATIVE_INFINITY
        ? 0
        : Math.max(0, lastLandedAt + opts.intervalMs - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      if (dirty && !finished) void push();
    }, wait);
    timer.unref?.();
  }

  return {
    update(record) {
      if (finished) return;
      latest = record;
      dirty = true;
      schedule();
    },

    async flush() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (inflight) await inflight;
      if (dirty && !finished) await push();
    },

    async finish(record) {
      finished = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      latest = record;
      while (inflight) await inflight;
      const attempts = opts.finalAttempts ?? 5;
      let backoff = opts.retryBaseMs ?? 1000;
      for (let attempt = 1; ; attempt++) {
        try {
          await land(record, true);
          return;
        } catch (error) {
          if (attempt >= attempts) {
            log.error("final status edit failed; the comment may show a stale state", { error, attempts });
            return;
          }
          const wait = Math.min(waitFor(error) ?? backoff, 120_000);
          log.warn("final status edit failed, retrying", { error, attempt, waitMs: wait });
          await sleep(wait);
          backoff *= 2;
        }
      }
    },

    commentId: () => id,
  };
}
