import { type Config, signedRunUrl } from "@forgehand/core";
import { createRedis, resolveLinkSecret } from "@forgehand/queue";
import type { CliContext } from "./cli-context";

/**
 * The runner's "Run log" link builder: the signed run page under `status.publicUrl`, valid `status.linkTtl`.
 * Undefined without a public URL (no link at all, as before). The secret is read once at start (env or Redis,
 * see `resolveLinkSecret`) and added to the redactor: a signing key never belongs in a log or an agent's view.
 */
export async function runPageLinker(
  ctx: CliContext,
  config: Config,
  redisUrl: string,
): Promise<((runId: string) => string) | undefined> {
  const publicUrl = config.status.publicUrl;
  if (!publicUrl) return undefined;
  const redis = createRedis(redisUrl, "client", { enableOfflineQueue: true, commandTimeout: 10_000 });
  redis.on("error", () => {});
  try {
    const secret = await resolveLinkSecret(redis, ctx.prefix, ctx.env);
    ctx.redactor.add([secret]);
    return (runId) => signedRunUrl(publicUrl, runId, secret, config.status.linkTtl);
  } catch (error) {
    // Status comments then link the token-only log API, as before; the runner itself still works.
    ctx.logger.error("run page links disabled: no link secret", {
      error: ctx.redactor.redact((error as Error).message),
    });
    return undefined;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
