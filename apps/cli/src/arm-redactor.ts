import { join } from "node:path";
import { type Config, collectSecrets, MIN_SECRET_LENGTH, SECRET_ENV_NAMES, SECRET_NAME } from "@forgehand/core";
import type { CliContext } from "./cli-context";

/** Contexts whose short-secret warning was logged (`start` arms the redactor for the webhook and the runner). */
const warned = new WeakSet<CliContext>();

/** Where the embedded Redis keeps its generated password (`requirepass`), if it has one. */
export function redisPasswordFile(dataDir: string): string {
  return join(dataDir, "redis", "password");
}

/**
 * Adds the secrets known after config load to the process's redactor: every agent `env` value whose name
 * ends in KEY/TOKEN/SECRET/PASSWORD, the password in the Redis URL actually used, and the content of
 * secret files (the embedded Redis' password file, plus `files`). Safe to call again; the first call
 * warns, naming the variables (never the values), about secrets too short to be redacted by value.
 */
export function armRedactor(
  ctx: CliContext,
  opts: { config: Pick<Config, "agents">; redisUrl?: string; files?: readonly string[] },
): void {
  const files = [redisPasswordFile(ctx.dataDir), ...(opts.files ?? [])];
  ctx.redactor.add(
    collectSecrets({ env: opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}, config: opts.config, files }),
  );
  if (warned.has(ctx)) return;
  warned.add(ctx);
  const short = shortSecretNames(ctx.env, opts.config);
  if (ctx.redactor.skipped > 0 || short.length > 0)
    ctx.logger.warn("secrets too short to be redacted by value (only their patterns are): use longer ones", {
      count: ctx.redactor.skipped,
      variables: short.join(", "),
      minLength: MIN_SECRET_LENGTH,
    });
}

/** The names of secret variables (process env and agents' `env`) whose value is set but shorter than the minimum. */
export function shortSecretNames(env: Record<string, string | undefined>, config: Pick<Config, "agents">): string[] {
  const isShort = (value: string | undefined) =>
    Boolean(value?.trim()) && (value ?? "").trim().length < MIN_SECRET_LENGTH;
  const names = new Set<string>();
  for (const [name, value] of Object.entries(env))
    if ((SECRET_NAME.test(name) || (SECRET_ENV_NAMES as readonly string[]).includes(name)) && isShort(value))
      names.add(name);
  for (const [agent, def] of Object.entries(config.agents ?? {}))
    for (const [name, value] of Object.entries(def.env ?? {}))
      if (SECRET_NAME.test(name) && isShort(value)) names.add(`agents.${agent}.env.${name}`);
  return [...names];
}
