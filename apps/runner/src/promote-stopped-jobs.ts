import { type ForgeId, issueKey } from "@forgehand/core";
import { StageJob, type StopRequest } from "@forgehand/queue";
import type { Queue } from "bullmq";
import { type StopTarget, stopApplies } from "./stop-watcher";

/** Delayed jobs looked at per stop request; a backlog larger than this is cancelled when each job comes up. */
const SCAN = 1_000;

/**
 * Brings forward the delayed stage jobs a stop request applies to. A run waiting out a
 * Retry-After (or a busy issue) would otherwise still read `queued` until its delay ends;
 * promoted, it comes up now and the processor's first step (the stop check) cancels it,
 * writing `stopped` and the final status comment. Every runner hears the request, so two
 * may race to promote one job: the loser's error is expected and ignored.
 */
export async function promoteStoppedJobs(
  queue: Queue,
  request: StopRequest,
  botLogin: (forge: ForgeId) => string | undefined,
): Promise<string[]> {
  const promoted: string[] = [];
  for (const job of await queue.getDelayed(0, SCAN - 1)) {
    const parsed = StageJob.safeParse(job.data);
    if (!parsed.success) continue;
    const { runId, ref, requestedAt } = parsed.data;
    const login = botLogin(ref.repo.forge);
    const target: StopTarget = { runId, issue: issueKey(ref), requestedAt, ...(login ? { botLogin: login } : {}) };
    if (!stopApplies(request, target)) continue;
    try {
      await job.promote();
      promoted.push(runId);
    } catch {
      // Already promoted by another runner, or started meanwhile: either way it is no longer waiting.
    }
  }
  return promoted;
}
