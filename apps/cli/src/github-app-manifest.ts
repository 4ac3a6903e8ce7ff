// The GitHub App forgehand needs, as a manifest for GitHub's "register an App from a manifest" flow
// (docs.github.com: apps/sharing-github-apps/registering-a-github-app-from-a-manifest). Manifest keys
// used: name, url, hook_attributes {url, active}, redirect_url, description, public,
// default_permissions, default_events.

/** Repository permissions: comment and label issues, push branches, open PRs. */
export const APP_PERMISSIONS = {
  issues: "write",
  pull_requests: "write",
  contents: "write",
  metadata: "read",
} as const;

/** The deliveries forgehand acts on (label changes arrive as `issues`). */
export const APP_EVENTS = ["issues", "issue_comment", "pull_request"] as const;

export interface GitHubAppManifest {
  name: string;
  url: string;
  description: string;
  public: false;
  hook_attributes: { url: string; active: true };
  redirect_url: string;
  default_permissions: Record<string, "read" | "write">;
  default_events: string[];
}

/**
 * Builds the manifest. `workflows` adds Workflows: write — GitHub refuses a push that changes
 * `.github/workflows/*` without it, so agents that may touch CI files need it.
 */
export function githubAppManifest(opts: {
  name: string;
  publicUrl: string;
  redirectUrl: string;
  workflows: boolean;
}): GitHubAppManifest {
  const base = opts.publicUrl.replace(/\/+$/, "");
  return {
    name: opts.name,
    url: base,
    description: "forgehand: runs AI coding agents on labelled issues",
    public: false,
    hook_attributes: { url: `${base}/webhooks/github`, active: true },
    redirect_url: opts.redirectUrl,
    default_permissions: { ...APP_PERMISSIONS, ...(opts.workflows ? { workflows: "write" as const } : {}) },
    default_events: [...APP_EVENTS],
  };
}

/** github.com for the public API, `https://HOST` for GitHub Enterprise Server's `https://HOST/api/v3`. */
export function githubWebUrl(apiUrl = "https://api.github.com"): string {
  const url = new URL(apiUrl);
  if (url.hostname === "api.github.com") return "https://github.com";
  return url.origin;
}

/** Where the manifest form posts: the account's or an organisation's "new App" page. */
export function manifestFormAction(webUrl: string, state: string, org?: string): string {
  const path = org ? `/organizations/${encodeURIComponent(org)}/settings/apps/new` : "/settings/apps/new";
  return `${webUrl}${path}?state=${encodeURIComponent(state)}`;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** A page whose one button posts the manifest to GitHub (the flow needs a form POST, not a link). */
export function manifestFormHtml(manifest: GitHubAppManifest, action: string): string {
  return `<!doctype html>
<meta charset="utf-8">
<title>Create the forgehand GitHub App</title>
<h1>Create the forgehand GitHub App</h1>
<p>GitHub will show the App it is about to create (<b>${escapeHtml(manifest.name)}</b>, webhook
<code>${escapeHtml(manifest.hook_attributes.url)}</code>) and ask you to confirm.</p>
<form action="${escapeHtml(action)}" method="post">
  <input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}">
  <button type="submit">Create GitHub App</button>
</form>
<pre>${escapeHtml(JSON.stringify(manifest, null, 2))}</pre>
`;
}
