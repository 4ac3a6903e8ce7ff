import { normaliseGitHost } from "@forgehand/core";

/**
 * The git host of a GitHub API: `api.github.com` → `https://github.com`, GHE.com's `api.<name>.ghe.com` →
 * `https://<name>.ghe.com`, GHES `https://HOST/api/v3` → `https://HOST`.
 */
export function githubGitHosts(apiUrl: string): string[] {
  const url = new URL(apiUrl);
  const host = url.hostname.startsWith("api.") ? url.host.slice("api.".length) : url.host;
  return [normaliseGitHost(`${url.protocol}//${host}`)];
}

/** Gitea/Forgejo serves git over http(s) on its web origin (`GITEA_URL`, any `/api/v1` suffix ignored). */
export function giteaGitHosts(url: string): string[] {
  return [normaliseGitHost(new URL(url).origin)];
}
