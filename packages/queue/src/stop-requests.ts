import type { Redis } from "ioredis";
import { StopRequest } from "./jobs";

/** Pub/sub channel on which stop requests are announced to every runner. */
export function stopChannel(prefix: string): string {
  return `${prefix}:stop`;
}

/**
 * Key of the persisted stop flag for a run id, an issue (`issueKey`), or one stage on an issue: a
 * stage's flag is its own key, so a later stage-scoped stop never overwrites an issue-wide one.
 */
export function stopFlagKey(prefix: string, target: { issue?: string; runId?: string; stage?: string }): string {
  if (target.runId) return `${prefix}:stop:run:${target.runId}`;
  return target.stage
    ? `${prefix}:stop:issue-stage:${target.stage}:${target.issue}`
    : `${prefix}:stop:issue:${target.issue}`;
}

/**
 * How long a stop flag is kept: long enough for any queued or running job to see it. The one TTL
 * of every stop flag, whether `requestStop` or a delivery's commit (commit-delivery.ts) writes it.
 */
export const STOP_FLAG_TTL_S = 7 * 24 * 3600;

/** A stop request as stored in its flag and announced on the stop channel. */
export function encodeStop(request: StopRequest): string {
  return JSON.stringify(StopRequest.parse(request));
}

/**
 * Records a stop request and announces it. The flag is persisted first so a runner
 * that misses the pub/sub message (reconnecting, busy) still sees it on its next
 * watchdog tick; queued jobs requested before `at` are cancelled when they start.
 */
export async function requestStop(redis: Redis, prefix: string, request: StopRequest): Promise<void> {
  const req = StopRequest.parse(request);
  const payload = JSON.stringify(req);
  const multi = redis.multi();
  if (req.issue) multi.set(stopFlagKey(prefix, { issue: req.issue, stage: req.stage }), payload, "EX", STOP_FLAG_TTL_S);
  if (req.runId) multi.set(stopFlagKey(prefix, { runId: req.runId }), payload, "EX", STOP_FLAG_TTL_S);
  multi.publish(stopChannel(prefix), payload);
  await multi.exec();
}

/** Reads the newest stop flag for a run, or for an issue (issue-wide, and the `stage`'s own when given), if any. */
export async function readStop(
  redis: Redis,
  prefix: string,
  target: { issue?: string; runId?: string; stage?: string },
): Promise<StopRequest | null> {
  const keys = [
    ...(target.runId ? [stopFlagKey(prefix, { runId: target.runId })] : []),
    ...(target.issue ? [stopFlagKey(prefix, { issue: target.issue })] : []),
    ...(target.issue && target.stage ? [stopFlagKey(prefix, { issue: target.issue, stage: target.stage })] : []),
  ];
  if (keys.length === 0) return null;
  const values = await redis.mget(...keys);
  const found = values
    .filter((v): v is string => typeof v === "string")
    .map((v) => StopRequest.safeParse(JSON.parse(v)))
    .filter((r) => r.success)
    .map((r) => r.data);
  return found.sort((a, b) => b.at - a.at)[0] ?? null;
}
