import { resolve } from "node:path";
import { collectSecrets, createLogger, createRedactor, type Logger, type Redactor } from "@forgehand/core";
import { prefixFor } from "@forgehand/queue";

/** Settings every long-running command derives from the environment (docs/SPEC.md § Environment). */
export interface CliContext {
  env: Record<string, string | undefined>;
  logger: Logger;
  /**
   * The process's one redactor, shared by its logger, runner and webhook. It starts with the
   * environment's secrets and the token patterns, so even the first log line is clean; `armRedactor`
   * adds the config's (agents' `env`), secret files and the Redis password once they are known, and
   * the forge clients add installation tokens as they are minted.
   */
  redactor: Redactor;
  /** Redis key prefix shared by webhook and runners. @defaultValue "forgehand" */
  prefix: string;
  /** Absolute data directory. @defaultValue ./.forgehand */
  dataDir: string;
  /** HTTP port from PORT. @defaultValue 3000 */
  port: number;
  /** Address the HTTP server binds, from HOST. @defaultValue "0.0.0.0" (every IPv4 interface) */
  host: string;
}

/** Reads the shared settings; a bad PORT is reported with its value. */
export function createCliContext(
  env: Record<string, string | undefined> = process.env,
  opts: { /** Where log lines go (tests). @defaultValue stderr */ write?: (line: string) => void } = {},
): CliContext {
  const port = env.PORT ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`[cli] PORT must be a TCP port number, got \`${env.PORT}\``);
  const redactor = createRedactor(collectSecrets({ env }));
  return {
    env,
    // Every line is redacted with the redactor as it is at write time: secrets added later count too.
    logger: createLogger({ redact: (line) => redactor.redact(line), ...(opts.write ? { write: opts.write } : {}) }),
    redactor,
    // On a Redis Cluster the prefix carries a {hash-tag} (redis-url.ts prefixFor).
    prefix: prefixFor(env.REDIS_URL, env.FORGEHAND_PREFIX || "forgehand"),
    dataDir: resolve(env.FORGEHAND_DATA_DIR || ".forgehand"),
    port,
    host: env.HOST || "0.0.0.0",
  };
}
