import { Redis, type RedisOptions } from "ioredis";

/** Role decides failure behaviour: the webhook fails fast (answers 503), workers wait for Redis to return. */
export type RedisRole = "webhook" | "worker" | "client";

/**
 * Creates an ioredis connection for a role. Workers need `maxRetriesPerRequest: null`
 * (BullMQ requirement for blocking commands); the webhook must not queue commands
 * while Redis is down, or a delivery would hang past the forge's 5-10 s deadline.
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const base: RedisOptions =
    role === "worker"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : {
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          connectTimeout: 2_000,
          commandTimeout: 2_000,
          retryStrategy: (times) => Math.min(times * 200, 2_000),
        };
  return new Redis(url, { lazyConnect: false, ...base, ...extra });
}
