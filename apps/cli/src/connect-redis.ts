import { redactUrl } from "@forgehand/core";
import { createRedis } from "@forgehand/queue";

/** A connected short-lived client for one CLI command. */
export type CliRedis = ReturnType<typeof createRedis>;

/**
 * Connects (bounded by `timeoutMs`, no retries) before the first command, so a dead or
 * silent Redis gives a clear error instead of a hang or an "offline queue" message.
 */
export async function connectRedis(url: string, timeoutMs = 3_000): Promise<CliRedis> {
  const shown = redactUrl(url);
  const redis = createRedis(url, "client", {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  redis.on("error", (error) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new Error(`[cli] Redis at ${shown} does not answer: ${(lastError ?? (error as Error)).message}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
