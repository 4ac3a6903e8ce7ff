import { type IssueRef, issueKey } from "@forgehand/core";
import { addJobs, type RunStore, runIdFor, StageJob, stageJobOn, type Trigger } from "@forgehand/queue";
import type { Queue } from "bullmq";
import { queuedRecord } from "./queued-record";

/**
 * Enqueues one stage run and creates its `queued` record. The run id comes from the
 * triggering delivery, so the same delivery can never enqueue the same stage twice.
 */
export async function enqueueStage(
  queue: Queue,
  store: RunStore,
  input: {
    ref: IssueRef;
    stage: string;
    trigger: Trigger;
    resumeSessionId?: string;
    maxTurns?: number;
    budgetUsd?: number;
  },
): Promise<string> {
  const runId = runIdFor(input.ref.repo.forge, input.trigger.deliveryId, input.stage, issueKey(input.ref));
  const job = StageJob.parse({
    kind: "stage",
    runId,
    ref: input.ref,
    stage: input.stage,
    trigger: input.trigger,
    requestedAt: Date.now(),
    ...(input.resumeSessionId ? { resumeSessionId: input.resumeSessionId } : {}),
  });
  await store.create(queuedRecord(job, input));
  // The same job name, options and retention as the webhook's adds (packages/queue produce-jobs.ts).
  await addJobs([stageJobOn(queue, job)]);
  return runId;
}
