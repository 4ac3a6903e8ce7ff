import type { Config } from "@forgehand/core";
import type { ForgeClients } from "@forgehand/forge";
import { createRedis, createRunStore, type RunStore } from "@forgehand/queue";
import * as webhook from "@forgehand/webhook";
import type { CliContext } from "./cli-context";
import type { CleanupStack } from "./shutdown";

type Api = NonNullable<webhook.WebhookDeps["api"]>;

/** Starts the webhook HTTP server on `port` and registers its shutdown. Resolves with the bound port. */
export async function serveWebhook(options: {
  ctx: CliContext;
  config: Config;
  redisUrl: string;
  port: number;
  forges: ForgeClients;
  cleanup: CleanupStack;
}): Promise<number> {
  const { ctx, config, redisUrl, forges, cleanup } = options;
  // Fail-fast connection: a delivery must get its 503 within the forge's 5-10 s deadline.
  const redis = createRedis(redisUrl, "webhook");
  redis.on("error", (error) => ctx.logger.debug("webhook redis error", { error }));
  cleanup.push("webhook redis", async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  const api = runsApi(createRunStore(redis, ctx.prefix), ctx);
  const app = webhook.createApp({
    config,
    redis,
    prefix: ctx.prefix,
    secrets: { github: ctx.env.GITHUB_WEBHOOK_SECRET || undefined, gitea: ctx.env.GITEA_WEBHOOK_SECRET || undefined },
    botLogins: { github: forges.botLogin("github"), gitea: forges.botLogin("gitea") },
    logger: ctx.logger.child({ part: "webhook" }),
    ...(api ? { api } : {}),
  });
  const server = await webhook.serveNode(app, options.port);
  cleanup.push("webhook server", () => server.close(), 10_000);
  ctx.logger.info("webhook listening", { url: `http://127.0.0.1:${server.port}`, routes: "/webhooks/github|gitea" });
  return server.port;
}

// The runs API (apps/webhook/src/api/runs.ts) is mounted at /api once the webhook package exports it.
function runsApi(store: RunStore, ctx: CliContext): Api | undefined {
  const create = Reflect.get(webhook, "createRunsApi") as
    | ((deps: { store: RunStore; token?: string }) => Api)
    | undefined;
  if (typeof create !== "function") {
    ctx.logger.warn("runs API not mounted", { reason: "@forgehand/webhook does not export createRunsApi yet" });
    return undefined;
  }
  return create({ store, ...(ctx.env.FORGEHAND_API_TOKEN ? { token: ctx.env.FORGEHAND_API_TOKEN } : {}) });
}
