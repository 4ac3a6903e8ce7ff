import { delimiter, join } from "node:path";
import type { Config } from "@forgehand/core";
import type { ForgeClients } from "@forgehand/forge";
import { createRunner } from "@forgehand/runner";
import { armRedactor } from "./arm-redactor";
import type { CliContext } from "./cli-context";
import { repoRoot } from "./package-root";
import { runPageLinker } from "./run-page-linker";
import type { CleanupStack } from "./shutdown";

/**
 * Agents are found on PATH, then in the checkout's node_modules/.bin (the bundled Claude Code
 * CLI), the same order `forgehand doctor` checks, whether or not npm put .bin on PATH.
 */
export function agentSearchEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const bin = join(repoRoot(), "node_modules", ".bin");
  const parts = (env.PATH ?? "").split(delimiter).filter(Boolean);
  return parts.includes(bin) ? env : { ...env, PATH: [...parts, bin].join(delimiter) };
}

/** Creates and starts one runner; on shutdown it gets `runner.shutdownGrace` to let agents finish. */
export async function startRunner(options: {
  ctx: CliContext;
  config: Config;
  configDir: string;
  redisUrl: string;
  forges: ForgeClients;
  concurrency?: number;
  cleanup: CleanupStack;
  /** Files holding secrets to redact besides the Redis password file (see `armRedactor`). */
  secretFiles?: readonly string[];
}): Promise<void> {
  const { ctx, config, cleanup } = options;
  armRedactor(ctx, {
    config,
    redisUrl: options.redisUrl,
    ...(options.secretFiles ? { files: options.secretFiles } : {}),
  });
  const runUrl = await runPageLinker(ctx, config, options.redisUrl);
  const runner = createRunner({
    config,
    configDir: options.configDir,
    redisUrl: options.redisUrl,
    prefix: ctx.prefix,
    forges: options.forges,
    logger: ctx.logger.child({ part: "runner" }),
    dataDir: ctx.dataDir,
    concurrency: options.concurrency ?? config.runner.concurrency,
    ...(ctx.env.FORGEHAND_RUNNER_ID ? { runnerId: ctx.env.FORGEHAND_RUNNER_ID } : {}),
    env: agentSearchEnv(ctx.env),
    redactor: ctx.redactor,
    ...(config.status.publicUrl ? { publicUrl: config.status.publicUrl } : {}),
    ...(runUrl ? { runUrl } : {}),
  });
  // Agents get shutdownGrace, then the verified kill (killGrace) and re-queueing need a little more.
  const closeBudget = config.runner.shutdownGrace + config.runner.killGrace + 15_000;
  cleanup.push("runner", () => runner.close({ graceMs: config.runner.shutdownGrace }), closeBudget);
  await runner.start();
  ctx.logger.info("runner started", {
    concurrency: options.concurrency ?? config.runner.concurrency,
    dataDir: ctx.dataDir,
  });
}
