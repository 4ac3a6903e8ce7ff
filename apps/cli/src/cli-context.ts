import { resolve } from "node:path";
import { createLogger, type Logger } from "@forgehand/core";

/** Settings every long-running command derives from the environment (docs/SPEC.md § Environment). */
export interface CliContext {
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Redis key prefix shared by webhook and runners. @defaultValue "forgehand" */
  prefix: string;
  /** Absolute data directory. @defaultValue ./.forgehand */
  dataDir: string;
  /** HTTP port from PORT. @defaultValue 3000 */
  port: number;
}

/** Reads the shared settings; a bad PORT is reported with its value. */
export function createCliContext(env: Record<string, string | undefined> = process.env): CliContext {
  const port = env.PORT ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`[cli] PORT must be a TCP port number, got \`${env.PORT}\``);
  return {
    env,
    logger: createLogger(),
    prefix: env.FORGEHAND_PREFIX || "forgehand",
    dataDir: resolve(env.FORGEHAND_DATA_DIR || ".forgehand"),
    port,
  };
}
