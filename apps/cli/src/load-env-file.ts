import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";

/**
 * Reads `.env` (KEY=value lines, Node's own parser) into `env` — only variables `env` does not
 * already have, so the real environment always wins (as with `node --env-file`). A missing file is
 * fine; an unreadable one is an error naming it. Returns the names it set.
 */
export function loadEnvFile(path: string, env: Record<string, string | undefined> = process.env): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw new Error(`[cli] cannot read ${path} (${code})`);
  }
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    set.push(name);
  }
  return set;
}
