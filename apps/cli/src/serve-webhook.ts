import type { Config } from "@forgehand/core";
import type { ForgeClients } from "@forgehand/forge";
import { createRedis, createRunStore } from "@forgehand/queue";
import * as webhook from "@forgehand/webhook";
import { armRedactor } from "./arm-redactor";
import type { CliContext } from "./cli-context";
import { type ListenAddress, listenAddress } from "./listen-address";
import { runPages } from "./run-pages";
import type { CleanupStack } from "./shutdown";

/** Starts the webhook HTTP server on `host:port` and registers its shutdown. Resolves with where it listens. */
export async function serveWebhook(options: {
  ctx: CliContext;
  config: Config;
  redisUrl: string;
  port: number;
  /** Address to bind. @defaultValue ctx.host */
  host?: string;
  forges: ForgeClients;
  cleanup: CleanupStack;
  /** Files holding secrets to redact besides the Redis password file (see `armRedactor`). */
  secretFiles?: readonly string[];
}): Promise<ListenAddress & { port: number }> {
  const { ctx, config, redisUrl, forges, cleanup } = options;
  armRedactor(ctx, { config, redisUrl, ...(options.secretFiles ? { files: options.secretFiles } : {}) });
  const redact = (text: string) => ctx.redactor.redact(text);
  // Fail-fast connection: a delivery must get its 503 within the forge's 5-10 s deadline.
  const redis = createRedis(redisUrl, "webhook");
  redis.on("error", (error) => ctx.logger.debug("webhook redis error", { error }));
  cleanup.push("webhook redis", async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  const api = webhook.createRunsApi({
    store: createRunStore(redis, ctx.prefix, { redact }),
    redact,
    ...(ctx.env.FORGEHAND_API_TOKEN ? { token: ctx.env.FORGEHAND_API_TOKEN } : {}),
  });
  const botLogins = webhookBotLogins(ctx, forges);
  // Wait (bounded) for the first connection so the first deliveries after boot are not refused;
  // if Redis is down the server still starts and answers /healthz, and 503 for the rest.
  await waitForReady(redis, 5_000);
  // The pages need the link secret (from Redis unless set): without it they are left out, the rest still serves.
  const pages = await runPages({ ctx, config, redis, redact }).catch((error: Error) => {
    ctx.logger.error("run pages disabled: no link secret", { error: redact(error.message) });
    return undefined;
  });
  const app = webhook.createApp({
    config,
    redis,
    prefix: ctx.prefix,
    secrets: { github: ctx.env.GITHUB_WEBHOOK_SECRET || undefined, gitea: ctx.env.GITEA_WEBHOOK_SECRET || undefined },
    botLogins,
    logger: ctx.logger.child({ part: "webhook" }),
    api,
    ...(pages ? { pages } : {}),
  });
  const server = await webhook.serveNode(app, options.port, options.host ?? ctx.host);
  cleanup.push("webhook server", () => server.close(), 10_000);
  // The address as bound (not as asked): "0.0.0.0:3000 (every interface)" is what an operator must know.
  const where = listenAddress(server.address, server.port);
  ctx.logger.info("webhook listening", { bind: where.bind, url: where.url, routes: "/webhooks/github|gitea" });
  return { ...where, port: server.port };
}

function waitForReady(redis: ReturnType<typeof createRedis>, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    redis.once("ready", done);
    function done() {
      clearTimeout(timer);
      redis.off("ready", done);
      resolve();
    }
  });
}

/**
 * The bot's own logins, so its comments and label changes are not taken for people's. In the split
 * deployment the webhook holds no forge token (docker-compose.yml), so FORGEHAND_*_LOGIN alone must
 * name the bot; a forge whose deliveries are accepted without a known login is logged as an error.
 */
function webhookBotLogins(ctx: CliContext, forges: ForgeClients) {
  const logins = {
    github: forges.botLogin("github") ?? (ctx.env.FORGEHAND_GITHUB_LOGIN || undefined),
    gitea: forges.botLogin("gitea") ?? (ctx.env.FORGEHAND_GITEA_LOGIN || undefined),
  };
  const secrets = { github: ctx.env.GITHUB_WEBHOOK_SECRET, gitea: ctx.env.GITEA_WEBHOOK_SECRET };
  for (const forge of ["github", "gitea"] as const)
    if (secrets[forge] && !logins[forge])
      ctx.logger.error("the bot's own login is unknown: its own comments and label changes would count as people's", {
        forge,
        fix: `set FORGEHAND_${forge.toUpperCase()}_LOGIN (or give this process the forge credentials)`,
      });
  return logins;
}
