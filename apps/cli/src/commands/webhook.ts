import { createCliContext } from "../cli-context";
import { forgeClientsFromEnv } from "../forge-clients-from-env";
import { parseFlags, portNumber } from "../parse-flags";
import { loadCliConfig } from "../resolve-config";
import { serveWebhook } from "../serve-webhook";
import { serveUntilSignal } from "../shutdown";
import { announceConfig } from "./announce-config";
import { requireRedisUrl } from "./require-redis-url";

/** `forgehand webhook`: the webhook app alone, on a shared Redis. */
export async function webhookCommand(args: string[]): Promise<number> {
  const { values } = parseFlags("webhook", args, {
    port: { type: "string" },
    host: { type: "string" },
    config: { type: "string" },
  });
  const ctx = createCliContext();
  const redisUrl = requireRedisUrl("webhook", ctx.env);
  const loaded = loadCliConfig(values.config, ctx.env);
  announceConfig(loaded, ctx.logger);
  return serveUntilSignal(ctx.logger, async (cleanup) => {
    // Forge clients only tell the webhook the bot's own logins (to ignore its own events).
    const forges = await forgeClientsFromEnv(ctx.env, ctx.logger, (v) => ctx.redactor.add([v]));
    await serveWebhook({
      ctx,
      config: loaded.config,
      redisUrl,
      port: portNumber("--port", values.port) ?? ctx.port,
      ...(values.host ? { host: values.host } : {}),
      cleanup,
      forges,
    });
  });
}
