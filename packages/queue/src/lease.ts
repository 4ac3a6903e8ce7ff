import type { Redis } from "ioredis";
import { awaitReplicas } from "./redis";

/**
 * Per-issue lease: `SET key token NX PX ttl`. Only the holder of the token may renew
 * or release it, so a runner whose lease lapsed (it died, or Redis lost contact)
 * can never extend or delete the lease a newer runner took.
 */

/** Key of the lease for one issue (`issueKey(ref)`). */
export function leaseKey(prefix: string, issue: string): string {
  return `${prefix}:lease:${issue}`;
}

/*
 * Renew if still ours.
 * Input:
 *   KEYS[1] lease key
 *   ARGV[1] token
 *   ARGV[2] ttl in ms
 * Output:
 *   1 renewed, 0 not held by this token (lapsed or taken by another runner)
 */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/*
 * Release if still ours.
 * Input:
 *   KEYS[1] lease key
 *   ARGV[1] token
 * Output:
 *   1 released, 0 not held by this token (nothing deleted)
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** A lease needs a whole, positive ttl: PX rejects 0 and a fraction, and a negative one would never lapse as meant. */
function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new Error(`[lease] Expected \`ttlMs\` > 0, got \`${ttlMs}\``);
}

/** Takes the lease if nobody holds it. True when this token now holds it. */
export async function acquireLease(
  redis: Redis,
  prefix: string,
  issue: string,
  token: string,
  ttlMs: number,
): Promise<boolean> {
  checkTtl(ttlMs);
  const ok = await redis.set(leaseKey(prefix, issue), token, "PX", ttlMs, "NX");
  if (ok !== "OK") return false;
  // Under Sentinel a lease only the old primary saw would vanish in a failover and let a second runner in.
  if (await awaitReplicas(redis).catch(() => false)) return true;
  await releaseLease(redis, prefix, issue, token).catch(() => {});
  return false;
}

/** Extends the lease only if `token` still holds it. */
export async function renewLease(
  redis: Redis,
  prefix: string,
  issue: string,
  token: string,
  ttlMs: number,
): Promise<boolean> {
  checkTtl(ttlMs);
  return (await redis.eval(RENEW, 1, leaseKey(prefix, issue), token, String(ttlMs))) === 1;
}

/** Deletes the lease only if `token` still holds it. */
export async function releaseLease(redis: Redis, prefix: string, issue: string, token: string): Promise<boolean> {
  return (await redis.eval(RELEASE, 1, leaseKey(prefix, issue), token)) === 1;
}

/** The token currently holding an issue's lease, if any (diagnostics and tests). */
export async function leaseHolder(redis: Redis, prefix: string, issue: string): Promise<string | null> {
  return redis.get(leaseKey(prefix, issue));
}
