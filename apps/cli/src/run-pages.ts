import type { Config } from "@forgehand/core";
import { giteaGitHosts, githubGitHosts } from "@forgehand/forge";
import { createRunStore, resolveLinkSecret } from "@forgehand/queue";
import * as webhook from "@forgehand/webhook";
import type { Hono } from "hono";
import type { Redis } from "ioredis";
import type { CliContext } from "./cli-context";

/** Web origins of the configured forges, for the run pages' issue and branch links. */
function forgeWebUrls(env: Record<string, string | undefined>): webhook.ForgeWebUrls {
  const out: webhook.ForgeWebUrls = {};
  const safely = (f: () => string | undefined) => {
    try {
      return f();
    } catch {
      return undefined; // a malformed URL: doctor names it; the pages just show no link
    }
  };
  const github = safely(() => githubGitHosts(env.GITHUB_API_URL || "https://api.github.com")[0]);
  if (github) out.github = github;
  const gitea = env.GITEA_URL ? safely(() => giteaGitHosts(env.GITEA_URL as string)[0]) : undefined;
  if (gitea) out.gitea = gitea;
  return out;
}

/**
 * The run pages of the webhook app. The link secret is the same the runners sign with (`resolveLinkSecret`:
 * `FORGEHAND_LINK_SECRET`, else generated once in Redis) and joins the redactor.
 */
export async function runPages(o: {
  ctx: CliContext;
  config: Config;
  redis: Redis;
  redact: (text: string) => string;
}): Promise<Hono> {
  const { ctx, config, redis, redact } = o;
  const linkSecret = await resolveLinkSecret(redis, ctx.prefix, ctx.env);
  ctx.redactor.add([linkSecret]);
  return webhook.createRunPages({
    store: createRunStore(redis, ctx.prefix, { redact }),
    redis,
    prefix: ctx.prefix,
    linkSecret,
    redact,
    stages: config.stages,
    web: forgeWebUrls(ctx.env),
    ...(ctx.env.FORGEHAND_API_TOKEN ? { token: ctx.env.FORGEHAND_API_TOKEN } : {}),
  });
}
