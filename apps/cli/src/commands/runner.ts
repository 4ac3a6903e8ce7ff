import { createCliContext } from "../cli-context";
import { forgeClientsFromEnv } from "../forge-clients-from-env";
import { parseFlags, positiveInt } from "../parse-flags";
import { loadCliConfig } from "../resolve-config";
import { sharedWriteBudget } from "../shared-write-budget";
import { serveUntilSignal } from "../shutdown";
import { startRunner } from "../start-runner";
import { announceConfig } from "./announce-config";
import { requireRedisUrl } from "./require-redis-url";

/** `forgehand runner`: one runner alone; start as many as you like on one Redis. */
export async function runnerCommand(args: string[]): Promise<number> {
  const { values } = parseFlags("runner", args, { concurrency: { type: "string" }, config: { type: "string" } });
  const ctx = createCliContext();
  const redisUrl = requireRedisUrl("runner", ctx.env);
  const concurrency = positiveInt("--concurrency", values.concurrency);
  const loaded = loadCliConfig(values.config, ctx.env);
  announceConfig(loaded, ctx.logger);
  return serveUntilSignal(ctx.logger, async (cleanup) => {
    const budget = sharedWriteBudget(redisUrl, ctx.prefix, ctx.logger, cleanup);
    const forges = await forgeClientsFromEnv(ctx.env, ctx.logger, (v) => ctx.redactor.add([v]), budget);
    await startRunner({
      ctx,
      config: loaded.config,
      configDir: loaded.baseDir,
      redisUrl,
      forges,
      cleanup,
      ...(concurrency ? { concurrency } : {}),
    });
  });
}
