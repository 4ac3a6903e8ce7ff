import type { Redis } from "ioredis";

/**
 * Waits until a fail-fast webhook connection is ready. Without it the first deliveries after
 * start get 503 "Redis is not connected" (as a load balancer's /readyz check would prevent).
 */
export async function untilReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`[bench] Redis not ready within ${timeoutMs} ms (${redis.status})`)),
      timeoutMs,
    );
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
