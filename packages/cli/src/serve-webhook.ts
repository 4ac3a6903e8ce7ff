import type { Config } from "@forgehand/core";
import type { ForgeClients } from "@forgehand/forge";
import { createRedis } from "@forgehand/queue";
import type { CliContext } from "./cli-context";
import { type HonoLike, loadRunStore, loadWebhook, NotAvailableError } from "./parts";
import type { CleanupStack } from "./shutdown";

/** Starts the webhook HTTP server on `port` and registers its shutdown. Resolves with the bound port. */
export async function serveWebhook(options: {
  ctx: CliContext;
  config: Config;
  redisUrl: string;
  port: number;
  forges?: ForgeClients;
  cleanup: CleanupStack;
}): Promise<number> {
  const { ctx, config, redisUrl, forges, cleanup } = options;
  const webhook = await loadWebhook();
  // Fail-fast connection: a delivery must get its 503 within the forge's 5-10 s deadline.
  const redis = createRedis(redisUrl, "webhook");
  redis.on("error", (error) => ctx.logger.debug("webhook redis error", { error }));
  cleanup.push("webhook redis", async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  const api = await runsApi(webhook.createRunsApi, redis, ctx);
  const app = webhook.createApp({
    config,
    redis,
    prefix: ctx.prefix,
    secrets: { github: ctx.env.GITHUB_WEBHOOK_SECRET || undefined, gitea: ctx.env.GITEA_WEBHOOK_SECRET || undefined },
    botLogins: { github: forges?.botLogin("github"), gitea: forges?.botLogin("gitea") },
    logger: ctx.logger.child({ part: "webhook" }),
    ...(api ? { api } : {}),
  });
  const server = await webhook.serveNode(app, options.port);
  cleanup.push("webhook server", () => server.close());
  ctx.logger.info("webhook listening", { url: `http://127.0.0.1:${server.port}`, routes: "/webhooks/github|gitea" });
  return server.port;
}

// The runs API is optional: without a run store the webhook still takes deliveries.
async function runsApi(
  createRunsApi: ((deps: { store: never; token?: string }) => HonoLike) | undefined,
  redis: ReturnType<typeof createRedis>,
  ctx: CliContext,
): Promise<HonoLike | undefined> {
  if (!createRunsApi) {
    ctx.logger.warn("runs API not mounted", { reason: "@forgehand/webhook does not export createRunsApi yet" });
    return undefined;
  }
  try {
    const store = await loadRunStore(redis, ctx.prefix);
    return createRunsApi({ store: store as never, token: ctx.env.FORGEHAND_API_TOKEN || undefined });
  } catch (error) {
    if (!(error instanceof NotAvailableError)) throw error;
    ctx.logger.warn("runs API not mounted", { reason: error.message });
    return undefined;
  }
}
