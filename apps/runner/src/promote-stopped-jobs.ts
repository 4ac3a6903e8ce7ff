import { createHash } from "node:crypto";
import { type ForgeId, issueKey } from "@forgehand/core";
import { StageJob, type StopRequest } from "@forgehand/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type StopTarget, stopApplies } from "./stop-watcher";

/** Delayed jobs looked at per stop request; a backlog larger than this is cancelled when each job comes up. */
const SCAN = 1_000;
/** How long the claim on one stop request is kept: far longer than a scan, short enough to never pile up. */
const CLAIM_MS = 60_000;

/**
 * Brings forward the delayed stage jobs a stop request applies to. A run waiting out a
 * Retry-After (or a busy issue) would otherwise still read `queued` until its delay ends;
 * promoted, it comes up now and the processor's first step (the stop check) cancels it,
 * writing `stopped` and the final status comment. Every runner hears the request: the first
 * to claim it (SET NX) scans, the others return at once, so a stop costs one scan, not one per
 * runner. A job that starts meanwhile makes its promote fail: expected and ignored.
 */
export async function promoteStoppedJobs(deps: {
  queue: Queue;
  redis: Redis;
  prefix: string;
  request: StopRequest;
  botLogin: (forge: ForgeId) => string | undefined;
}): Promise<string[]> {
  const { queue, request } = deps;
  const id = createHash("sha256").update(JSON.stringify(request)).digest("hex").slice(0, 16);
  const claimed = await deps.redis.set(`${deps.prefix}:stop-promote:${id}`, "1", "PX", CLAIM_MS, "NX");
  if (claimed !== "OK") return [];
  const promoted: string[] = [];
  for (const job of await queue.getDelayed(0, SCAN - 1)) {
    const parsed = StageJob.safeParse(job.data);
    if (!parsed.success) continue;
    const { runId, ref, requestedAt, stage } = parsed.data;
    const login = deps.botLogin(ref.repo.forge);
    const target: StopTarget = {
      runId,
      issue: issueKey(ref),
      stage,
      requestedAt,
      ...(login ? { botLogin: login } : {}),
    };
    if (!stopApplies(request, target)) continue;
    try {
      await job.promote();
      promoted.push(runId);
    } catch {
      // Started meanwhile (no longer delayed): the processor's stop check handles it.
    }
  }
  return promoted;
}
