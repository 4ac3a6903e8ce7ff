import type { Logger } from "@forgehand/core";
import { type WriteBudget, WriteDeferredError } from "@forgehand/forge";
import { createRedis, createRedisWriteBudget } from "@forgehand/queue";
import type { CleanupStack } from "./shutdown";

/**
 * The forge write budget every runner of this Redis shares (one per GitHub installation / token). Redis trouble
 * never blocks a forge write: the write goes ahead unbudgeted and says so in the debug log.
 */
export function sharedWriteBudget(
  redisUrl: string,
  prefix: string,
  logger: Logger,
  cleanup: CleanupStack,
): WriteBudget {
  const redis = createRedis(redisUrl, "client");
  redis.on("error", (error) => logger.debug("write budget redis error", { error }));
  cleanup.push("write budget connection", () => void redis.disconnect());
  const shared = createRedisWriteBudget(redis, prefix, {
    onDeclined: (scope, waitMs) => new WriteDeferredError(scope, waitMs),
  });
  return {
    async take(scope, request) {
      try {
        await shared.take(scope, request);
      } catch (error) {
        if (error instanceof WriteDeferredError) throw error;
        logger.debug("write budget unavailable; writing unbudgeted", { error });
      }
    },
    pause: (scope, ms) => shared.pause(scope, ms).catch(() => {}),
  };
}
