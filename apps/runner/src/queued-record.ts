import type { Limits, RunRecord } from "@forgehand/core";
import type { StageJob } from "@forgehand/queue";

/** The limits a run record shows (the config's `maxBudgetUsd` is the record's `budgetUsd`). */
export interface RecordLimits {
  maxTurns?: number | undefined;
  budgetUsd?: number | undefined;
}

/** A stage's configured limits as the run record names them. */
export function recordLimits(limits: Limits | undefined): RecordLimits {
  return { maxTurns: limits?.maxTurns, budgetUsd: limits?.maxBudgetUsd };
}

/**
 * The `queued` record of a stage job, before any work. Both the enqueuer and the runner create it
 * (`store.create` keeps whichever came first), so they must build the same record.
 */
export function queuedRecord(job: StageJob, limits: RecordLimits = {}, runnerId?: string): RunRecord {
  return {
    id: job.runId,
    forge: job.ref.repo.forge,
    repo: job.ref.repo.fullName,
    issue: job.ref.number,
    isPr: job.ref.isPr,
    stage: job.stage,
    state: "queued",
    createdAt: job.requestedAt,
    turns: 0,
    costUsd: 0,
    attempts: 0,
    lastActions: [],
    trigger: `${job.trigger.kind} by ${job.trigger.by}`,
    ...(runnerId !== undefined ? { runner: runnerId } : {}),
    ...(limits.maxTurns ? { maxTurns: limits.maxTurns } : {}),
    ...(limits.budgetUsd ? { budgetUsd: limits.budgetUsd } : {}),
  };
}
