import { readFileSync } from "node:fs";
import type { Config } from "./config";

/** An environment variable whose name ends like this holds a secret (`ANTHROPIC_API_KEY`, `NPM_TOKEN`, `DB_PASSWORD`). */
export const SECRET_NAME = /(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIALS)$/i;

/** The variables forgehand itself reads secrets from (besides every `*_KEY`/`*_TOKEN`/… name). */
export const SECRET_ENV_NAMES = [
  "GITHUB_WEBHOOK_SECRET",
  "GITEA_WEBHOOK_SECRET",
  "GITHUB_TOKEN",
  "GITEA_TOKEN",
  "GITHUB_PRIVATE_KEY",
  "FORGEHAND_API_TOKEN",
  "FORGEHAND_GIT_PASSWORD",
  "REDIS_PASSWORD",
] as const;

export interface CollectSecretsInput {
  /** The runner's / webhook's environment. */
  env?: Record<string, string | undefined>;
  /** The loaded config: every agent's `env` entry with a secret-like name is a secret. */
  config?: Pick<Config, "agents">;
  /**
   * Files whose (trimmed) content is a secret, e.g. the embedded Redis' generated `requirepass` file.
   * `GITHUB_PRIVATE_KEY_PATH` from `env` is read without being listed. A missing file is skipped.
   */
  files?: readonly string[];
  /** For tests; default `readFileSync(path, "utf8")`. */
  readFile?: (path: string) => string;
}

/**
 * Every literal secret value forgehand holds, for {@link createRedactor}: webhook secrets, forge tokens,
 * the GitHub App private key (the whole value, with `\n` escapes and unescaped, and each base64 body line),
 * `FORGEHAND_API_TOKEN`, the Redis password (from `REDIS_URL`'s userinfo, `REDIS_PASSWORD`, or a file), every
 * env variable whose name ends in KEY/TOKEN/SECRET/PASSWORD (the process's and each agent's configured
 * `env`). Values are returned as they are; the redactor drops the short ones.
 */
export function collectSecrets(input: CollectSecretsInput = {}): string[] {
  const env = input.env ?? {};
  const read = input.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  const out = new Set<string>();
  const add = (value: string | undefined) => {
    if (value?.trim()) out.add(value);
  };

  for (const name of SECRET_ENV_NAMES) add(env[name]);
  for (const [name, value] of Object.entries(env)) if (SECRET_NAME.test(name)) add(value);
  for (const agent of Object.values(input.config?.agents ?? {}))
    for (const [name, value] of Object.entries(agent.env ?? {})) if (SECRET_NAME.test(name)) add(value);

  const redisPassword = passwordOfUrl(env.REDIS_URL);
  if (redisPassword) {
    add(redisPassword);
    add(env.REDIS_URL?.match(/^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s]*)@/i)?.[1]); // as written, still encoded
  }

  const pems: string[] = [];
  if (env.GITHUB_PRIVATE_KEY) pems.push(env.GITHUB_PRIVATE_KEY, env.GITHUB_PRIVATE_KEY.replace(/\\n/g, "\n"));
  const files = [...(input.files ?? [])];
  if (env.GITHUB_PRIVATE_KEY_PATH) files.push(env.GITHUB_PRIVATE_KEY_PATH);
  for (const path of files) {
    let content: string;
    try {
      content = read(path);
    } catch {
      continue;
    }
    add(content);
    add(content.trim());
    if (content.includes("PRIVATE KEY")) pems.push(content);
  }
  for (const pem of pems) {
    add(pem);
    for (const line of pemBodyLines(pem)) add(line);
  }
  return [...out];
}

/** The base64 lines between a PEM's BEGIN and END lines (headers like `Proc-Type:` excluded). */
export function pemBodyLines(pem: string): string[] {
  return pem
    .replace(/\\n/g, "\n")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("-----") && /^[A-Za-z0-9+/=]+$/.test(l));
}

/** The decoded password of `scheme://user:password@host`, if any. */
export function passwordOfUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.password ? decodeURIComponent(parsed.password) : undefined;
  } catch {
    return undefined;
  }
}
