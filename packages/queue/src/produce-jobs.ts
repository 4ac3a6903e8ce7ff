import { createHash } from "node:crypto";
import { issueKey } from "@forgehand/core";
import { Job, type Queue } from "bullmq";
import type { ChainableCommander } from "ioredis";
import { addOrderOn } from "./issue-order";
import type { CommandJob, StageJob } from "./jobs";

/** How long finished jobs are kept, so that their ids keep deduplicating re-adds for a week. */
export const JOB_RETENTION_S = 7 * 24 * 3600;

/** The BullMQ job name of each job kind; every producer uses these. */
export const JOB_NAMES = { stage: "stage", command: "command" } as const;

/**
 * Job id for the slash commands of one comment. Keyed by the comment, not the delivery: Gitea's
 * "Replay" re-sends a comment with a new delivery id, and its commands must not run twice.
 */
export function commandJobIdFor(forge: string, repo: string, commentId: number): string {
  return `c${createHash("sha256").update(`${forge}\0${repo}\0${commentId}`).digest("hex").slice(0, 12)}`;
}

/** BullMQ job options every producer uses: a fixed id plus a week of retention so the id stays deduplicated. */
export function jobOptionsFor(jobId: string) {
  return {
    jobId,
    removeOnComplete: { age: JOB_RETENTION_S },
    removeOnFail: { age: JOB_RETENTION_S },
  };
}

/** One job ready to be added: its queue, name, data and fixed id. */
export interface ProducedJob {
  queue: Queue;
  name: (typeof JOB_NAMES)[keyof typeof JOB_NAMES];
  data: StageJob | CommandJob;
  id: string;
}

/** A stage run on the stage queue; its id is the run id. */
export function stageJobOn(queue: Queue, data: StageJob): ProducedJob {
  return { queue, name: JOB_NAMES.stage, data, id: data.runId };
}

/** The slash commands of one comment on the command queue; its id comes from the comment (commandJobIdFor). */
export function commandJobOn(queue: Queue, forge: string, data: CommandJob): ProducedJob {
  return { queue, name: JOB_NAMES.command, data, id: commandJobIdFor(forge, data.ref.repo.fullName, data.commentId) };
}

/**
 * Queues the add of one job on a MULTI (or a MULTI block of a pipeline) of the queue's own
 * connection, whose BullMQ scripts are defined on it. It queues the add, synchronously, and for a
 * stage job its place in the issue's order (issue-order.ts, same MULTI: both or neither); replies
 * are read from the EXEC (a duplicate id is a no-op, not an error).
 */
/** Queues the job (and a stage job's place in its issue's order) on `multi`; returns how many commands it queued. */
export function addToMulti(multi: ChainableCommander, job: ProducedJob): number {
  const instance = new Job(job.queue, job.name, job.data, jobOptionsFor(job.id), job.id);
  // Queued on the pipeline synchronously; its own promise only mirrors the queueing, read from the EXEC.
  instance.addJob(multi as never).catch(() => {});
  if (job.data.kind === "stage") {
    const { runId, stage, requestedAt, ref } = job.data;
    return 1 + addOrderOn(multi, job.queue.opts.prefix ?? "bull", issueKey(ref), { runId, stage, requestedAt });
  }
  return 1;
}

/** Adds jobs in one MULTI on their first queue's connection; rejects with the first failed add. */
export async function addJobs(jobs: ProducedJob[]): Promise<void> {
  const first = jobs[0];
  if (!first) return;
  const client = await first.queue.client;
  const multi = client.multi();
  for (const job of jobs) addToMulti(multi as unknown as ChainableCommander, job);
  const results = await multi.exec();
  if (!results) throw new Error("[queue] the job MULTI was discarded");
  const failed = results.find(([error]) => error)?.[0];
  if (failed) throw failed;
}
