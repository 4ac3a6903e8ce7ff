import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { readRedisPassword } from "@forgehand/queue";
import { embeddedUrlFile } from "./embedded-redis";

/**
 * REDIS_URL, else the embedded Redis of a `forgehand start` running on the same data dir (with the password
 * from its password file, which must be ours and 0600 — else this throws saying so), else undefined.
 */
export function findRedisUrl(
  env: Record<string, string | undefined>,
  dataDir: string,
): { url: string; from: "REDIS_URL" | "embedded" } | undefined {
  if (env.REDIS_URL) return { url: env.REDIS_URL, from: "REDIS_URL" };
  const file = embeddedUrlFile(dataDir);
  if (existsSync(file)) {
    const url = readFileSync(file, "utf8").trim();
    if (url) return { url: withPassword(url, readRedisPassword(dirname(file))), from: "embedded" };
  }
  return undefined;
}

/** Like findRedisUrl, but explains what to do when there is no Redis to talk to. */
export function requireRedisTarget(command: string, env: Record<string, string | undefined>, dataDir: string): string {
  const found = findRedisUrl(env, dataDir);
  if (!found)
    throw new Error(
      `[cli] forgehand ${command}: no Redis to read from. Set REDIS_URL, or run it while \`forgehand start\` is up ` +
        `with the same FORGEHAND_DATA_DIR (looked for ${embeddedUrlFile(dataDir)})`,
    );
  return found.url;
}

function withPassword(url: string, password: string | undefined): string {
  if (!password || !URL.canParse(url)) return url;
  const parsed = new URL(url);
  parsed.username = "";
  parsed.password = password;
  return parsed.toString().replace(/\/$/, "");
}
