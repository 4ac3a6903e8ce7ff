import type { ForgeId, Logger } from "@forgehand/core";
import { silentLogger } from "@forgehand/core";
import { createAppAuth } from "@octokit/auth-app";
import type { ForgeClientsOptions } from "./create-forge-clients";

/** How one forge's bot login was settled. */
export interface BotLoginResolution {
  forge: ForgeId;
  login?: string;
  /** `env`: FORGEHAND_*_LOGIN; `discovered`: asked the forge; `unknown`: neither worked. */
  source: "env" | "discovered" | "unknown";
  /** Why discovery failed (only with `unknown`). */
  error?: string;
}

/** The env variable that names a forge's bot login (the fix for a failed discovery). */
export const BOT_LOGIN_ENV: Record<ForgeId, string> = {
  github: "FORGEHAND_GITHUB_LOGIN",
  gitea: "FORGEHAND_GITEA_LOGIN",
};

const DEFAULT_TIMEOUT_MS = 5_000;

async function getJson(
  doFetch: typeof fetch,
  url: string,
  authorization: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const res = await doFetch(url, {
    headers: { authorization, accept: "application/vnd.github+json, application/json", "user-agent": "forgehand" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`GET ${url} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
  }
}

function field(body: Record<string, unknown>, name: string, url: string): string {
  const value = body[name];
  if (typeof value !== "string" || !value) throw new Error(`GET ${url} has no "${name}" in its answer`);
  return value;
}

/**
 * Asks a forge who its credentials belong to: a GitHub token's `GET /user` → `login`, a
 * GitHub App's `GET /app` (app JWT) → `${slug}[bot]` (the login its events carry), Gitea/Forgejo
 * `GET /api/v1/user` → `login`. Throws (with the URL and status) when the forge does not say.
 */
export async function discoverBotLogin(
  forge: ForgeId,
  opts: ForgeClientsOptions,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<string> {
  const doFetch = opts.fetch ?? fetch;
  if (forge === "github") {
    const gh = opts.github;
    if (!gh) throw new Error("github is not configured");
    const api = (gh.apiUrl ?? "https://api.github.com").replace(/\/+$/, "");
    if (gh.appId !== undefined && gh.privateKey) {
      const auth = createAppAuth({ appId: gh.appId, privateKey: gh.privateKey });
      const { token } = await auth({ type: "app" });
      const url = `${api}/app`;
      return `${field(await getJson(doFetch, url, `bearer ${token}`, timeoutMs), "slug", url)}[bot]`;
    }
    if (!gh.token) throw new Error("github has neither a token nor App credentials");
    const url = `${api}/user`;
    return field(await getJson(doFetch, url, `token ${gh.token}`, timeoutMs), "login", url);
  }
  const gt = opts.gitea;
  if (!gt) throw new Error("gitea is not configured");
  const url = `${gt.url.replace(/\/+$/, "").replace(/\/api\/v1$/, "")}/api/v1/user`;
  return field(await getJson(doFetch, url, `token ${gt.token}`, timeoutMs), "login", url);
}

/**
 * Settles the bot login of every configured forge once, at start-up: an explicit
 * FORGEHAND_*_LOGIN always wins; otherwise the forge is asked (bounded by `timeoutMs`).
 * Never throws: a failed discovery is logged with the env variable that fixes it, and the
 * forge is left without a login (the webhook then cannot tell the bot's own events apart).
 * Returns options with the logins filled in, for `createForgeClients`.
 */
export async function resolveBotLogins(
  opts: ForgeClientsOptions,
  o: { timeoutMs?: number; logger?: Logger } = {},
): Promise<{ options: ForgeClientsOptions; results: BotLoginResolution[] }> {
  const log = o.logger ?? silentLogger;
  const forges = (["github", "gitea"] as const).filter((f) => opts[f]);
  const results = await Promise.all(
    forges.map(async (forge): Promise<BotLoginResolution> => {
      const explicit = opts[forge]?.botLogin;
      if (explicit) return { forge, login: explicit, source: "env" };
      try {
        return { forge, login: await discoverBotLogin(forge, opts, o.timeoutMs), source: "discovered" };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return { forge, source: "unknown", error: reason };
      }
    }),
  );
  const options: ForgeClientsOptions = { ...opts };
  for (const r of results) {
    if (r.login && r.forge === "github" && options.github) options.github = { ...options.github, botLogin: r.login };
    if (r.login && r.forge === "gitea" && options.gitea) options.gitea = { ...options.gitea, botLogin: r.login };
    if (r.login) log.info(`bot login ${r.forge}=${r.login} (${r.source})`, { forge: r.forge, login: r.login });
    else
      log.warn(
        `bot login ${r.forge} unknown: could not ask the forge (${r.error}); set ${BOT_LOGIN_ENV[r.forge]} so forgehand ignores its own comments and label changes`,
        { forge: r.forge },
      );
  }
  return { options, results };
}
