import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";

export interface InstallationTokenSourceOptions {
  appId: string | number;
  privateKey: string;
  installationId: number;
  apiUrl: string;
  fetch?: typeof fetch;
  /** Refresh this long before expiry (capped at a quarter of the token's lifetime). @defaultValue 5 min */
  refreshMarginMs?: number;
  /**
   * Told every token as it is minted, before anyone uses it, so the process's redactor can hide it in
   * comments, logs and run output (forge imports no redactor: the composition root passes `redactor.add`).
   */
  onToken?: (token: string) => void;
}

/** An installation access token, fetched with the app JWT and cached until shortly before it expires. */
export interface InstallationTokenSource {
  token(forceRefresh?: boolean): Promise<string>;
}

/**
 * Our own cache rather than auth-app's: its LRU keeps tokens a fixed 59 minutes whatever
 * `expires_at` says, and a revoked token must be replaceable on a 401.
 */
export function createInstallationTokenSource(opts: InstallationTokenSourceOptions): InstallationTokenSource {
  const plain = new Octokit({ baseUrl: opts.apiUrl, request: opts.fetch ? { fetch: opts.fetch } : {} });
  const auth = createAppAuth({ appId: opts.appId, privateKey: opts.privateKey, request: plain.request });
  const margin = opts.refreshMarginMs ?? 5 * 60_000;
  let cached: { token: string; expiresAt: number; lifetime: number } | undefined;
  let inflight: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const fetchedAt = Date.now();
    const result = await auth({ type: "installation", installationId: opts.installationId, refresh: true });
    const expiresAt = Date.parse(result.expiresAt);
    opts.onToken?.(result.token);
    cached = { token: result.token, expiresAt, lifetime: Math.max(0, expiresAt - fetchedAt) };
    return result.token;
  }

  return {
    token(forceRefresh = false) {
      if (!forceRefresh && cached && cached.expiresAt - Date.now() > Math.min(margin, cached.lifetime / 4)) {
        return Promise.resolve(cached.token);
      }
      inflight ??= fetchToken().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}
