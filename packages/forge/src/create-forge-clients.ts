import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ForgeId, Logger } from "@forgehand/core";
import type { ForgeClient, ForgeClients } from "./forge-client";
import { createGiteaClient } from "./gitea-client";
import { createGitHubClient } from "./github-client";
import type { WriteBudget } from "./write-budget";

/** Credentials and endpoints for each configured forge. */
export interface ForgeClientsOptions {
  github?: {
    apiUrl?: string;
    token?: string;
    appId?: string | number;
    privateKey?: string;
    /** The bot's login (`name[bot]` for Apps) so its own comments are never commands. */
    botLogin?: string;
    throttle?: boolean;
  };
  gitea?: { url: string; token: string; botLogin?: string };
  fetch?: typeof fetch;
  logger?: Logger;
  /** Told every secret minted at run time (GitHub App installation tokens), e.g. `redactor.add([value])`. */
  onSecret?: (value: string) => void;
  /** GitHub writes budgeted per installation (or token) across every process (write-budget.ts). */
  writeBudget?: WriteBudget;
}

/** The budget scope of a GitHub client: its installation, or a digest of its token (never the token itself). */
function githubScope(apiUrl: string | undefined, isApp: boolean, installationId?: number, token?: string): string {
  const host = (apiUrl ?? "https://api.github.com").replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (isApp) return `github:${host}:installation:${installationId}`;
  return `github:${host}:token:${createHash("sha256")
    .update(token ?? "")
    .digest("hex")
    .slice(0, 16)}`;
}

/** One client per forge (and per GitHub App installation), created on first use and cached. */
export function createForgeClients(opts: ForgeClientsOptions): ForgeClients {
  const cache = new Map<string, ForgeClient>();
  return {
    for(forge: ForgeId, installationId?: number): ForgeClient {
      const gh = opts.github;
      const isApp = forge === "github" && gh?.appId !== undefined && Boolean(gh.privateKey);
      const key = forge === "github" && isApp ? `github:${installationId}` : forge;
      const hit = cache.get(key);
      if (hit) return hit;
      let client: ForgeClient;
      if (forge === "github") {
        if (!gh || (!gh.token && !isApp))
          throw new Error(
            "[forge] github is not configured: set GITHUB_TOKEN, or GITHUB_APP_ID and GITHUB_PRIVATE_KEY",
          );
        if (isApp && installationId === undefined)
          throw new Error(`[forge] GitHub App ${gh.appId} needs the delivery's installation id, got undefined`);
        client = createGitHubClient({
          apiUrl: gh.apiUrl,
          ...(isApp ? { appId: gh.appId, privateKey: gh.privateKey, installationId } : { token: gh.token }),
          fetch: opts.fetch,
          logger: opts.logger?.child({ forge }),
          throttle: gh.throttle,
          ...(opts.writeBudget
            ? {
                writeBudget: {
                  budget: opts.writeBudget,
                  scope: githubScope(gh.apiUrl, isApp, installationId, gh.token),
                },
              }
            : {}),
          ...(opts.onSecret ? { onSecret: opts.onSecret } : {}),
        });
      } else {
        const gt = opts.gitea;
        if (!gt) throw new Error("[forge] gitea is not configured: set GITEA_URL and GITEA_TOKEN");
        client = createGiteaClient({ ...gt, fetch: opts.fetch, logger: opts.logger?.child({ forge }) });
      }
      cache.set(key, client);
      return client;
    },
    botLogin(forge) {
      return forge === "github" ? opts.github?.botLogin : opts.gitea?.botLogin;
    },
  };
}

/**
 * Reads forge settings from the environment: `GITHUB_TOKEN` or `GITHUB_APP_ID` +
 * `GITHUB_PRIVATE_KEY` (or `GITHUB_PRIVATE_KEY_PATH`), `GITHUB_API_URL`, `GITEA_URL` +
 * `GITEA_TOKEN`, and the bot logins `FORGEHAND_GITHUB_LOGIN` / `FORGEHAND_GITEA_LOGIN`.
 */
export function forgeOptionsFromEnv(env: NodeJS.ProcessEnv): ForgeClientsOptions {
  const out: ForgeClientsOptions = {};
  let privateKey = env.GITHUB_PRIVATE_KEY?.replace(/\\n/g, "\n");
  if (!privateKey && env.GITHUB_PRIVATE_KEY_PATH) {
    try {
      privateKey = readFileSync(env.GITHUB_PRIVATE_KEY_PATH, "utf8");
    } catch (error) {
      throw new Error(`[forge] cannot read GITHUB_PRIVATE_KEY_PATH "${env.GITHUB_PRIVATE_KEY_PATH}"`, { cause: error });
    }
  }
  if (env.GITHUB_APP_ID && !privateKey)
    throw new Error(
      `[forge] GITHUB_APP_ID is "${env.GITHUB_APP_ID}" but neither GITHUB_PRIVATE_KEY nor GITHUB_PRIVATE_KEY_PATH is set`,
    );
  if (env.GITHUB_TOKEN || (env.GITHUB_APP_ID && privateKey)) {
    out.github = {
      apiUrl: env.GITHUB_API_URL || undefined,
      ...(env.GITHUB_APP_ID && privateKey ? { appId: env.GITHUB_APP_ID, privateKey } : { token: env.GITHUB_TOKEN }),
      botLogin: env.FORGEHAND_GITHUB_LOGIN || undefined,
    };
  }
  if (env.GITEA_URL || env.GITEA_TOKEN) {
    if (!env.GITEA_URL || !env.GITEA_TOKEN)
      throw new Error(`[forge] set both GITEA_URL and GITEA_TOKEN (got GITEA_URL="${env.GITEA_URL ?? ""}")`);
    out.gitea = { url: env.GITEA_URL, token: env.GITEA_TOKEN, botLogin: env.FORGEHAND_GITEA_LOGIN || undefined };
  }
  return out;
}
