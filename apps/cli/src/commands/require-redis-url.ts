import { UsageError } from "../parse-flags";

/** The split deployment (webhook / runner services) must share one Redis; there is no embedded default. */
export function requireRedisUrl(command: string, env: Record<string, string | undefined>): string {
  const url = env.REDIS_URL;
  if (!url)
    throw new UsageError(
      `[cli] forgehand ${command} needs REDIS_URL (e.g. redis://127.0.0.1:6379) so it shares one Redis with the other services; ` +
        "use `forgehand start` for a single process with an embedded Redis",
    );
  return url;
}
