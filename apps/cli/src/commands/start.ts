import { redactUrl } from "@forgehand/core";
import { createCliContext } from "../cli-context";
import { startEmbeddedRedis } from "../embedded-redis";
import { forgeClientsFromEnv } from "../forge-clients-from-env";
import { parseFlags, portNumber } from "../parse-flags";
import { loadCliConfig } from "../resolve-config";
import { serveWebhook } from "../serve-webhook";
import { sharedWriteBudget } from "../shared-write-budget";
import { serveUntilSignal } from "../shutdown";
import { startRunner } from "../start-runner";
import { announceConfig } from "./announce-config";

/** `forgehand start`: webhook + runner in one process, with a private Redis when REDIS_URL is unset. */
export async function startCommand(args: string[]): Promise<number> {
  const { values } = parseFlags("start", args, {
    port: { type: "string" },
    host: { type: "string" },
    config: { type: "string" },
  });
  const ctx = createCliContext();
  const port = portNumber("--port", values.port) ?? ctx.port;
  const loaded = loadCliConfig(values.config, ctx.env);
  announceConfig(loaded, ctx.logger);
  return serveUntilSignal(ctx.logger, async (cleanup) => {
    const redisUrl = ctx.env.REDIS_URL || (await startEmbeddedRedis(ctx.dataDir, ctx.logger, cleanup)).url;
    if (ctx.env.REDIS_URL) ctx.logger.info("using redis", { url: redactUrl(redisUrl) });
    const budget = sharedWriteBudget(redisUrl, ctx.prefix, ctx.logger, cleanup);
    const forges = await forgeClientsFromEnv(ctx.env, ctx.logger, (v) => ctx.redactor.add([v]), budget);
    const host = values.host ?? ctx.host;
    const bound = await serveWebhook({ ctx, config: loaded.config, redisUrl, port, host, cleanup, forges });
    await startRunner({ ctx, config: loaded.config, configDir: loaded.baseDir, redisUrl, forges, cleanup });
    ctx.logger.info("forgehand is up", { bind: bound.bind, url: bound.url, health: "/healthz", ready: "/readyz" });
  });
}
