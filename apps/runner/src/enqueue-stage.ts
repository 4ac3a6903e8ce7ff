import { type IssueRef, issueKey } from "@forgehand/core";
import { addJobs, addOrder, type RunStore, runIdFor, StageJob, stageJobOn, type Trigger } from "@forgehand/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { coalescedReason, waitingRunOfStage } from "./issue-turn";
import { queuedRecord } from "./queued-record";

/**
 * Enqueues one stage run and creates its `queued` record. The run id comes from the
 * triggering delivery, so the same delivery can never enqueue the same stage twice.
 * With `order` (the runner's command path), a trigger for a stage that already has a run waiting for the issue
 * is coalesced here: its record ends `stopped` at once, naming that run, and no job is added.
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
  order?: { redis: Redis; prefix: string },
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
  const record = queuedRecord(job, input);
  if (order) {
    const into = await waitingRunOfStage({ ...order, store, queue }, job);
    if (into) {
      const reason = coalescedReason(into, job.stage, issueKey(job.ref));
      await store.create({ ...record, state: "stopped", reason, endedAt: Date.now() });
      await store.appendLog(runId, "system", reason);
      return runId;
    }
    // In the issue's order from now on, so the next trigger finds it waiting (the pick-up adds it too, NX).
    await addOrder(order.redis, order.prefix, issueKey(job.ref), {
      runId,
      stage: job.stage,
      requestedAt: job.requestedAt,
    });
  }
  await store.create(record);
  // The same job name, options and retention as the webhook's adds (packages/queue produce-jobs.ts).
  await addJobs([stageJobOn(queue, job)]);
  return runId;
}
