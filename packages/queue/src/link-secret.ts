import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

/** Redis key of the generated run-link secret (when `FORGEHAND_LINK_SECRET` is not set). */
export function linkSecretKey(prefix: string): string {
  return `${prefix}:link-secret`;
}

/**
 * The secret run-page links are signed with. `FORGEHAND_LINK_SECRET` when set (at least 32 characters, so a
 * short guessable value is refused); otherwise one generated value kept in Redis (`SET NX`, first process wins),
 * so every webhook and runner of one deployment agrees without configuration, and links survive restarts.
 * Whoever can read Redis can forge links — they can already read every run, so nothing is lost.
 */
export async function resolveLinkSecret(
  redis: Redis,
  prefix: string,
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  const given = env.FORGEHAND_LINK_SECRET;
  if (given !== undefined && given !== "") {
    if (given.length < 32)
      throw new Error(`[config] FORGEHAND_LINK_SECRET must be at least 32 characters, got ${given.length}`);
    return given;
  }
  const key = linkSecretKey(prefix);
  await redis.set(key, randomBytes(32).toString("base64url"), "NX");
  const stored = await redis.get(key);
  if (!stored) throw new Error(`[runs] could not read the run-link secret at ${key}`);
  return stored;
}
