import { STAGE_QUEUE } from "@forgehand/queue";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { createStageProcessor, type StageProcessorDeps } from "./process-stage-job";

export interface StageWorkerOptions {
  /** A connection of its own: BullMQ leaves connections it was given open on close(); the caller closes it. */
  connection: Redis;
  /** Stage jobs run at once. */
  concurrency: number;
  /** BullMQ job lock (ms); a dead runner's job returns to the queue after it lapses. */
  lockDurationMs: number;
  /** How often BullMQ looks for jobs of dead runners (ms). */
  stalledIntervalMs: number;
  processor: StageProcessorDeps;
}

/** The BullMQ Worker on STAGE_QUEUE that runs `createStageProcessor`. */
export function createStageWorker(opts: StageWorkerOptions): Worker {
  const { logger } = opts.processor.runner;
  const worker = new Worker(STAGE_QUEUE, createStageProcessor(opts.processor), {
    connection: opts.connection,
    prefix: opts.processor.queue.prefix,
    concurrency: opts.concurrency,
    lockDuration: opts.lockDurationMs,
    stalledInterval: opts.stalledIntervalMs,
    // A job whose runner died is re-queued, not failed; several crashes in a row are still bounded.
    maxStalledCount: 5,
  });
  worker.on("error", (error) => logger.warn("stage worker error", { error }));
  worker.on("failed", (job, error) => logger.error("stage job failed", { jobId: job?.id, error }));
  return worker;
}
