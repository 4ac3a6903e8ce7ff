import { formatDuration, type RunRecord, type RunState } from "@forgehand/core";
import type { AbortCause } from "./abort-cause";
import { backoffMs } from "./classify-failure";
import type { StageResult } from "./stage-context";

/** What `decideAfterRun` needs besides the stage result. */
export interface AfterRunInput {
  result: StageResult;
  /** Why the run's signal fired, if it did. */
  cause: AbortCause | undefined;
  /** Transient retries this run already had (the job's `transientRetries`). */
  retriesUsed: number;
  /** config.runner: retry budget and first backoff (ms). */
  retries: { transientRetries: number; retryBackoff: number };
  /** How long a job waits before trying a busy issue again (ms). */
  lockedRetryMs: number;
}

/** What the stage processor does with a finished stage run. */
export type AfterRun =
  /** Not a user's stop (shutdown, lost lease): back to the queue for this or another runner, attempts kept. */
  | { kind: "requeue"; reason: string; log: string; why: string; delayMs: number }
  /** A transient failure with retries left: the job waits `delayMs`, counting `retriesUsed` retries. */
  | { kind: "retry"; reason: string; why: string; retriesUsed: number; delayMs: number }
  /** The run ends in `state` with `patch`; `labelFailed`: the issue gets the failed label. */
  | { kind: "end"; state: RunState; patch: Partial<RunRecord>; log: string; labelFailed: boolean };

/** Decides between requeue, transient retry and end for a finished stage run; pure. */
export function decideAfterRun(input: AfterRunInput): AfterRun {
  const { result, cause, retriesUsed: used, retries } = input;
  if (result.state === "stopped" && cause && cause.kind !== "stop") {
    const why = cause.kind === "shutdown" ? "runner shutting down" : `issue lease lost (${cause.why})`;
    return {
      kind: "requeue",
      reason: `returned to the queue: ${why}`,
      log: `agent stopped and run returned to the queue: ${why}`,
      why,
      delayMs: cause.kind === "lease" ? input.lockedRetryMs : 0,
    };
  }

  if (result.transient && used < retries.transientRetries) {
    const delayMs = backoffMs(used + 1, retries.retryBackoff, result.transient.retryAfterMs);
    const reason = `transient failure (${result.transient.why}); retry ${used + 1}/${retries.transientRetries} in ${formatDuration(delayMs)}`;
    return { kind: "retry", reason, why: result.transient.why, retriesUsed: used + 1, delayMs };
  }

  let reason = result.reason ?? "";
  if (result.transient) reason = `gave up after ${used} retries: ${reason}`;
  const patch: Partial<RunRecord> = { reason, ...(result.prUrl ? { prUrl: result.prUrl } : {}) };
  if (result.state === "stopped" && cause?.kind === "stop") {
    patch.stoppedBy = cause.request.by;
    patch.reason = `stopped by ${cause.request.by} (${cause.request.reason})`;
  }
  return {
    kind: "end",
    state: result.state,
    patch,
    log: `run ended: ${result.state}${patch.reason ? ` — ${patch.reason}` : ""}`,
    labelFailed: result.state !== "succeeded" && result.state !== "stopped",
  };
}
