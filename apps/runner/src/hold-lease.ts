import type { Logger } from "@forgehand/core";
import { acquireLease, releaseLease, renewLease } from "@forgehand/queue";
import type { Redis } from "ioredis";

export interface HeldLease {
  /** Stops renewing and deletes the lease if it is still ours. */
  release(): Promise<void>;
}

export interface HoldLeaseOptions {
  redis: Redis;
  prefix: string;
  issue: string;
  token: string;
  ttlMs: number;
  logger: Logger;
  /**
   * Called once when the lease can no longer be trusted: another token holds it, or no
   * renewal succeeded for 60% of the ttl (Redis unreachable). The run must stop before
   * the lease lapses, or another runner could start a second agent on the issue.
   */
  onLost(why: string): void;
}

/** Takes an issue lease and renews it every ttl/5 while the run lives; null when another run holds it. */
export async function holdLease(opts: HoldLeaseOptions): Promise<HeldLease | null> {
  const { redis, prefix, issue, token, ttlMs, logger } = opts;
  if (!(await acquireLease(redis, prefix, issue, token, ttlMs))) return null;
  let lastOk = Date.now();
  let lost = false;
  let stopped = false;
  const lose = (why: string) => {
    if (lost || stopped) return;
    lost = true;
    logger.warn("issue lease lost", { issue, why });
    opts.onLost(why);
  };
  const timer = setInterval(
    async () => {
      if (stopped) return;
      try {
        if (await renewLease(redis, prefix, issue, token, ttlMs)) lastOk = Date.now();
        else lose("another runner holds the issue lease");
      } catch (error) {
        logger.debug("lease renewal failed", { issue, error });
      }
      if (Date.now() - lastOk > ttlMs * 0.6) lose(`lease not renewed for ${Date.now() - lastOk} ms`);
    },
    Math.max(50, Math.floor(ttlMs / 5)),
  );
  return {
    async release() {
      stopped = true;
      clearInterval(timer);
      try {
        await releaseLease(redis, prefix, issue, token);
      } catch (error) {
        // It lapses on its own after ttl.
        logger.warn("issue lease not released", { issue, error });
      }
    },
  };
}
