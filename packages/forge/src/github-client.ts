import type { IssueRef, Logger, Permission, RepoRef } from "@forgehand/core";
import { silentLogger } from "@forgehand/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import type { EndpointOptions, RequestInterface, RequestParameters, Route } from "@octokit/types";
import { errorStatus, sleep, throwingForgeApiErrors } from "./forge-api-error";
import type { ForgeClient, ForgeComment } from "./forge-client";
import { githubGitHosts } from "./forge-git-hosts";
import { fromOctokitError } from "./from-octokit-error";
import { githubPulls } from "./github-pulls";
import { createInstallationTokenSource, type InstallationTokenSource } from "./installation-token-source";
import { classifyWrite, type WriteBudget, type WritePriority } from "./write-budget";

export interface GitHubClientOptions {
  /** REST base URL (GHES: `https://HOST/api/v3`). @defaultValue https://api.github.com */
  apiUrl?: string;
  /** A personal access token (the alternative to App credentials). */
  token?: string;
  appId?: string | number;
  privateKey?: string;
  installationId?: number;
  fetch?: typeof fetch;
  logger?: Logger;
  /** Space requests per GitHub's best practices (plugin-throttling). @defaultValue true */
  throttle?: boolean;
  /** Rate-limit retries before giving up. @defaultValue 2 */
  maxRetries?: number;
  /** Longest wait honoured for one retry. @defaultValue 120 s */
  maxRetryAfterSec?: number;
  /** Told each App installation token as it is minted (see InstallationTokenSourceOptions.onToken). */
  onSecret?: (value: string) => void;
  /**
   * A write budget shared by every process writing with this installation / token (write-budget.ts). Given, it
   * replaces plugin-throttling's per-process write spacing, and a rate-limit answer pauses every process's writes.
   */
  writeBudget?: { budget: WriteBudget; scope: string };
}

/** Octokit request option carrying a write's priority to the budget hook (`request: { forgehandPriority }`). */
export interface PriorityRequestOption {
  forgehandPriority?: WritePriority;
}

const ThrottledOctokit = Octokit.plugin(throttling, retry);
type Kit = InstanceType<typeof ThrottledOctokit>;

const ROLES = new Set<Permission>(["admin", "maintain", "write", "triage", "read", "none"]);
const LEGACY: Record<string, Permission> = { admin: "admin", write: "write", read: "read", none: "none" };

/** Auth strategy that asks the token source on every request and renews once on a 401. */
function tokenSourceStrategy(options: { source: InstallationTokenSource }) {
  const { source } = options;
  const auth = async () => ({ type: "token", tokenType: "installation", token: await source.token() });
  auth.hook = async (request: RequestInterface, route: Route | EndpointOptions, parameters?: RequestParameters) => {
    const endpoint = request.endpoint.merge(route as string, parameters) as EndpointOptions;
    const headers = endpoint.headers ?? {};
    endpoint.headers = headers;
    headers.authorization = `token ${await source.token()}`;
    try {
      return await request(endpoint);
    } catch (error) {
      if ((error as { status?: unknown }).status !== 401) throw error;
      headers.authorization = `token ${await source.token(true)}`;
      return await request(endpoint);
    }
  };
  return auth;
}

/** What plugin-throttling already retries (so the outer retry does not retry twice). */
function throttlingHandles(error: unknown): boolean {
  const e = error as { message?: string; response?: { headers?: Record<string, string | undefined> } };
  return /\bsecondary rate\b/i.test(e.message ?? "") || e.response?.headers?.["x-ratelimit-remaining"] === "0";
}

/** A GitHub (or GHES) client: PAT or App installation token, throttled and retried. */
export function createGitHubClient(opts: GitHubClientOptions): ForgeClient {
  const apiUrl = (opts.apiUrl ?? "https://api.github.com").replace(/\/+$/, "");
  const gitHosts = githubGitHosts(apiUrl);
  const log = opts.logger ?? silentLogger;
  const maxRetries = opts.maxRetries ?? 2;
  const maxWaitSec = opts.maxRetryAfterSec ?? 120;
  const budget = opts.writeBudget;
  // With a shared budget the per-process spacing would only add a second, uncoordinated wait.
  const throttle = budget ? false : (opts.throttle ?? true);
  let source: InstallationTokenSource | undefined;
  if (opts.appId !== undefined && opts.privateKey) {
    if (opts.installationId === undefined)
      throw new Error(`[forge] GitHub App ${opts.appId} needs an installationId (from the delivery's installation.id)`);
    source = createInstallationTokenSource({
      appId: opts.appId,
      privateKey: opts.privateKey,
      installationId: opts.installationId,
      apiUrl,
      fetch: opts.fetch,
      ...(opts.onSecret ? { onToken: opts.onSecret } : {}),
    });
  } else if (!opts.token) {
    throw new Error("[forge] GitHub needs GITHUB_TOKEN, or GITHUB_APP_ID with GITHUB_PRIVATE_KEY and an installation");
  }

  const onLimit =
    (kind: string) =>
    (retryAfter: number, options: { method?: string; url?: string }, _o: unknown, retryCount: number) => {
      const retrying = retryCount < maxRetries && retryAfter <= maxWaitSec;
      log.warn(`github ${kind} rate limit hit`, {
        method: options.method,
        url: options.url,
        retryAfter,
        retryCount,
        retrying,
      });
      return retrying;
    };
  const octokit: Kit = new ThrottledOctokit({
    baseUrl: apiUrl,
    userAgent: "forgehand",
    request: opts.fetch ? { fetch: opts.fetch } : {},
    ...(source ? { authStrategy: tokenSourceStrategy, auth: { source } } : { auth: opts.token }),
    throttle: { enabled: throttle, onRateLimit: onLimit("primary"), onSecondaryRateLimit: onLimit("secondary") },
    // Rate limits are the throttling plugin's (and the hook's below) job; plugin-retry handles 5xx and network errors.
    retry: { doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => log.warn("octokit warning", { message }),
      error: (message: string) => log.error("octokit error", { message }),
    },
  });
  // Rate-limit answers the throttling plugin does not classify (a bare 429 + Retry-After from a
  // proxy, or any limit when throttling is off): honour Retry-After a couple of times. This hook is
  // the outermost, so every request failure leaves it as a ForgeApiError.
  octokit.hook.wrap("request", async (request, options) => {
    const kind = classifyWrite(options.method ?? "GET", String(options.url ?? ""));
    const priority = (options.request as PriorityRequestOption | undefined)?.forgehandPriority ?? "normal";
    for (let attempt = 0; ; attempt++) {
      try {
        if (budget && kind.write) await budget.budget.take(budget.scope, { creates: kind.creates, priority });
        return await request(options);
      } catch (raw) {
        if (raw instanceof Error && raw.name === "WriteDeferredError") throw raw;
        const error = fromOctokitError(raw, options);
        // Every process writing with this installation waits too, not only the one that was told.
        if (budget && error.rateLimited)
          await budget.budget.pause(budget.scope, error.retryAfterMs ?? 60_000).catch(() => {});
        // A limit that names no time: "wait for at least one minute", per GitHub's REST rate-limit docs
        // (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit).
        const waitMs = error.rateLimited ? (error.retryAfterMs ?? 60_000) : undefined;
        if (
          waitMs === undefined ||
          (throttle && throttlingHandles(raw)) ||
          attempt >= maxRetries ||
          waitMs > maxWaitSec * 1000
        )
          throw error;
        log.warn("github rate-limited, waiting", { method: options.method, url: options.url, waitMs, attempt });
        await sleep(waitMs);
      }
    }
  });

  const r = (repo: RepoRef) => ({ owner: repo.owner, repo: repo.name });
  const toComment = (c: {
    id: number;
    body?: string;
    user: { login: string } | null;
    html_url: string;
    created_at?: string;
    updated_at?: string;
  }): ForgeComment => ({
    id: c.id,
    body: c.body ?? "",
    author: c.user?.login ?? "",
    htmlUrl: c.html_url,
    ...(c.created_at ? { createdAt: c.created_at } : {}),
    ...(c.updated_at ? { updatedAt: c.updated_at } : {}),
  });

  async function findOpenPull(repo: RepoRef, head: string, base: string) {
    const { data } = await octokit.rest.pulls.list({ ...r(repo), state: "open", head: `${repo.owner}:${head}`, base });
    return data[0];
  }

  return throwingForgeApiErrors("github", {
    forge: "github",
    gitHosts,

    async getPermission(repo, login) {
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...r(repo), username: login });
        // role_name is exact (maintain, triage); custom roles fall back to the legacy `permission`.
        const role = data.role_name as Permission;
        return ROLES.has(role) ? role : (LEGACY[data.permission] ?? "none");
      } catch (error) {
        if (errorStatus(error) === 404) return "none";
        throw error;
      }
    },

    async createComment(ref, body) {
      const { data } = await octokit.rest.issues.createComment({ ...r(ref.repo), issue_number: ref.number, body });
      return toComment(data);
    },

    async getComment(repo, commentId) {
      try {
        const { data } = await octokit.rest.issues.getComment({ ...r(repo), comment_id: commentId });
        return toComment(data);
      } catch (error) {
        if (errorStatus(error) === 404) return null;
        throw error;
      }
    },

    async updateComment(repo, commentId, body, opts) {
      const request: PriorityRequestOption = { forgehandPriority: opts?.priority ?? "normal" };
      await octokit.rest.issues.updateComment({ ...r(repo), comment_id: commentId, body, request });
    },

    async findCommentByMarker(ref, marker) {
      for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, {
        ...r(ref.repo),
        issue_number: ref.number,
        per_page: 100,
      })) {
        const found = page.data.find((c) => c.body?.includes(marker));
        if (found) return toComment(found);
      }
      return null;
    },

    async addLabels(ref, labels) {
      if (labels.length === 0) return;
      await octokit.rest.issues.addLabels({ ...r(ref.repo), issue_number: ref.number, labels });
    },

    async removeLabel(ref, label) {
      try {
        await octokit.rest.issues.removeLabel({ ...r(ref.repo), issue_number: ref.number, name: label });
      } catch (error) {
        // 404: the label is not on the issue; removal is idempotent.
        if (errorStatus(error) !== 404) throw error;
      }
    },

    async addReaction(repo, commentId, reaction, opts) {
      const request: PriorityRequestOption = { forgehandPriority: opts?.priority ?? "normal" };
      await octokit.rest.reactions.createForIssueComment({
        ...r(repo),
        comment_id: commentId,
        content: reaction,
        request,
      });
    },

    async findOrCreatePullRequest(repo, pr) {
      const existing = await findOpenPull(repo, pr.head, pr.base);
      if (existing) return { number: existing.number, url: existing.html_url, created: false };
      try {
        const { data } = await octokit.rest.pulls.create({ ...r(repo), ...pr });
        return { number: data.number, url: data.html_url, created: true };
      } catch (error) {
        // 422 "A pull request already exists": lost a race with another runner; use theirs.
        if (errorStatus(error) !== 422) throw error;
        const again = await findOpenPull(repo, pr.head, pr.base);
        if (!again) throw error;
        return { number: again.number, url: again.html_url, created: false };
      }
    },

    async getIssue(ref: IssueRef) {
      const { data } = await octokit.rest.issues.get({ ...r(ref.repo), issue_number: ref.number });
      const all = await octokit.paginate(octokit.rest.issues.listComments, {
        ...r(ref.repo),
        issue_number: ref.number,
        per_page: 100,
      });
      return {
        number: data.number,
        title: data.title,
        body: data.body ?? "",
        state: data.state === "closed" ? "closed" : "open",
        isPr: Boolean(data.pull_request),
        labels: data.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter(Boolean),
        htmlUrl: data.html_url,
        comments: all.slice(-20).map(toComment),
      };
    },

    ...githubPulls(octokit),

    async getRepository(repo) {
      const { data } = await octokit.rest.repos.get(r(repo));
      return { defaultBranch: data.default_branch, cloneUrl: data.clone_url, private: data.private };
    },

    async gitCredentials() {
      if (source) return { username: "x-access-token", password: await source.token(), hosts: gitHosts };
      return opts.token ? { username: "x-access-token", password: opts.token, hosts: gitHosts } : null;
    },
  });
}
