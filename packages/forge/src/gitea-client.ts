import type { IssueRef, Logger, Permission, RepoRef } from "@forgehand/core";
import { silentLogger } from "@forgehand/core";
import type { Comment, Issue, Label, PullRequest, RepoCollaboratorPermission, Repository } from "gitea-js";
import { errorStatus, ForgeApiError, isNetworkFailure, sleep, throwingForgeApiErrors } from "./forge-api-error";
import type { ForgeClient, ForgeComment, Reaction } from "./forge-client";
import { giteaGitHosts } from "./forge-git-hosts";
import { giteaPulls } from "./gitea-pulls";

export interface GiteaClientOptions {
  /** Web origin of the Gitea/Forgejo instance (the API lives under `/api/v1`). */
  url: string;
  token: string;
  /** The bot's login, used as the git username. */
  botLogin?: string;
  fetch?: typeof fetch;
  logger?: Logger;
  /** How often a 429/403 with Retry-After (or a 5xx) is retried. @defaultValue 2 */
  maxRetries?: number;
  /** Longest Retry-After honoured before giving up. @defaultValue 120_000 ms */
  maxRetryWaitMs?: number;
}

const PAGE = 50;
const GITEA_ACCESS: Record<string, Permission> = {
  owner: "admin",
  admin: "admin",
  write: "write",
  read: "read",
  none: "none",
};

/** A small typed fetch client for the Gitea/Forgejo API subset forgehand uses. */
export function createGiteaClient(opts: GiteaClientOptions): ForgeClient {
  if (!/^https?:\/\//.test(opts.url))
    throw new Error(`[forge] Expected GITEA_URL to be an http(s) URL, got "${opts.url}"`);
  const api = `${opts.url.replace(/\/+$/, "").replace(/\/api\/v1$/, "")}/api/v1`;
  const gitHosts = giteaGitHosts(opts.url);
  const doFetch = opts.fetch ?? fetch;
  const log = opts.logger ?? silentLogger;
  const maxRetries = opts.maxRetries ?? 2;
  const maxWait = opts.maxRetryWaitMs ?? 120_000;
  /** fullName → label name → id; refreshed on a miss. */
  const labelIds = new Map<string, Map<string, number>>();

  /** `how.text`: the answer is plain text (a PR's `.diff`), returned as is instead of parsed as JSON. */
  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    how?: { text?: boolean },
  ): Promise<{ status: number; data: T; headers: Headers }> {
    const url = `${api}${path}`;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await doFetch(url, {
          method,
          headers: {
            authorization: `token ${opts.token}`,
            accept: how?.text ? "text/plain" : "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (attempt < maxRetries) {
          log.warn("gitea request failed, retrying", { method, path, error });
          await sleep(1000 * (attempt + 1));
          continue;
        }
        throw new ForgeApiError(`[forge] gitea ${method} ${path} failed: ${String(error)}`, {
          forge: "gitea",
          method,
          url,
          transient: isNetworkFailure(error),
          cause: error,
        });
      }
      const text = await res.text();
      if (res.ok) {
        if (how?.text) return { status: res.status, data: text as T, headers: res.headers };
        try {
          return { status: res.status, data: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
        } catch (error) {
          throw new ForgeApiError(
            `[forge] gitea ${method} ${path} answered ${res.status} with non-JSON: ${text.slice(0, 300)}`,
            {
              forge: "gitea",
              method,
              url,
              status: res.status,
              cause: error,
            },
          );
        }
      }
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {}
      const error = ForgeApiError.fromAnswer(
        `[forge] gitea ${method} ${path} answered ${res.status}: ${message.slice(0, 300)}`,
        { forge: "gitea", method, url, status: res.status, headers: res.headers, forgeMessage: message },
      );
      const wait = error.retryAfterMs;
      // Only a limit that says how long to wait is waited out; a 5xx is retried with a growing pause.
      const limited = error.rateLimited && wait !== undefined;
      if ((limited || res.status >= 500) && attempt < maxRetries && (wait ?? 0) <= maxWait) {
        log.warn("gitea rate-limited or failing, retrying", { method, path, status: res.status, waitMs: wait });
        await sleep(wait ?? 1000 * (attempt + 1));
        continue;
      }
      throw error;
    }
  }

  const repoPath = (repo: RepoRef) => `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}`;
  const toComment = (c: Comment): ForgeComment => ({
    id: c.id ?? 0,
    body: c.body ?? "",
    author: c.user?.login ?? "",
    htmlUrl: c.html_url,
    ...(c.created_at ? { createdAt: c.created_at } : {}),
    ...(c.updated_at ? { updatedAt: c.updated_at } : {}),
  });

  async function refreshLabels(repo: RepoRef): Promise<Map<string, number>> {
    const map = new Map<string, number>();
    for (let page = 1; ; page++) {
      const { data, headers } = await call<Label[]>("GET", `${repoPath(repo)}/labels?page=${page}&limit=${PAGE}`);
      for (const l of data) if (l.name && l.id !== undefined) map.set(l.name, l.id);
      const total = Number(headers.get("x-total-count"));
      // Page until a short page, or until X-Total-Count is reached (the server may cap `limit`).
      if (data.length === 0 || (Number.isFinite(total) ? map.size >= total : data.length < PAGE)) break;
    }
    labelIds.set(repo.fullName, map);
    return map;
  }

  async function labelId(repo: RepoRef, name: string): Promise<number | undefined> {
    const cached = labelIds.get(repo.fullName)?.get(name);
    if (cached !== undefined) return cached;
    return (await refreshLabels(repo)).get(name);
  }

  async function comments(ref: IssueRef): Promise<Comment[]> {
    return (await call<Comment[]>("GET", `${repoPath(ref.repo)}/issues/${ref.number}/comments`)).data;
  }

  return throwingForgeApiErrors("gitea", {
    forge: "gitea",
    gitHosts,

    async getPermission(repo, login) {
      try {
        const { data } = await call<RepoCollaboratorPermission>(
          "GET",
          `${repoPath(repo)}/collaborators/${encodeURIComponent(login)}/permission`,
        );
        return GITEA_ACCESS[data.permission ?? "none"] ?? "none";
      } catch (error) {
        const status = errorStatus(error);
        if (status === 404) return "none";
        if (status === 403) {
          log.warn("gitea refused the permission check: give the bot account Admin on the repository (or its org)", {
            repo: repo.fullName,
            login,
          });
          return "none";
        }
        throw error;
      }
    },

    async createComment(ref, body) {
      const { data } = await call<Comment>("POST", `${repoPath(ref.repo)}/issues/${ref.number}/comments`, { body });
      return toComment(data);
    },

    async getComment(repo, commentId) {
      try {
        return toComment((await call<Comment>("GET", `${repoPath(repo)}/issues/comments/${commentId}`)).data);
      } catch (error) {
        if (errorStatus(error) === 404) return null;
        throw error;
      }
    },

    async updateComment(repo, commentId, body) {
      await call("PATCH", `${repoPath(repo)}/issues/comments/${commentId}`, { body });
    },

    async findCommentByMarker(ref, marker) {
      const found = (await comments(ref)).find((c) => c.body?.includes(marker));
      return found ? toComment(found) : null;
    },

    async addLabels(ref, labels) {
      if (labels.length === 0) return;
      const path = `${repoPath(ref.repo)}/issues/${ref.number}/labels`;
      let missing = labels;
      try {
        // Gitea ≥ 1.22 takes names (PR #30943) but silently ignores unknown ones, so check the answer.
        const { data } = await call<Label[]>("POST", path, { labels });
        const present = new Set(data.map((l) => l.name));
        missing = labels.filter((l) => !present.has(l));
      } catch (error) {
        const status = errorStatus(error);
        if (status !== 400 && status !== 422) throw error;
      }
      if (missing.length === 0) return;
      await refreshLabels(ref.repo);
      const ids: number[] = [];
      for (const name of missing) {
        let id = labelIds.get(ref.repo.fullName)?.get(name);
        if (id === undefined) {
          const { data } = await call<Label>("POST", `${repoPath(ref.repo)}/labels`, { name, color: "#ededed" });
          id = data.id as number;
          labelIds.get(ref.repo.fullName)?.set(name, id);
        }
        ids.push(id);
      }
      await call("POST", path, { labels: ids });
    },

    async removeLabel(ref, label) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const id = attempt === 0 ? await labelId(ref.repo, label) : (await refreshLabels(ref.repo)).get(label);
        if (id === undefined) return;
        try {
          await call("DELETE", `${repoPath(ref.repo)}/issues/${ref.number}/labels/${id}`);
          return;
        } catch (error) {
          // 422: the cached id is stale (label deleted and recreated); refresh once.
          if (errorStatus(error) !== 422) throw error;
        }
      }
    },

    async addReaction(repo, commentId, reaction: Reaction) {
      await call("POST", `${repoPath(repo)}/issues/comments/${commentId}/reactions`, { content: reaction });
    },

    async findOrCreatePullRequest(repo, pr) {
      try {
        const { data } = await call<PullRequest>("POST", `${repoPath(repo)}/pulls`, pr);
        return { number: data.number ?? 0, url: data.html_url ?? "", created: true };
      } catch (error) {
        if (errorStatus(error) !== 409) throw error;
      }
      // 409: an unmerged PR for this head/base exists. This lookup ignores state, so check it.
      const head = pr.head.split("/").map(encodeURIComponent).join("/");
      try {
        const { data } = await call<PullRequest>(
          "GET",
          `${repoPath(repo)}/pulls/${encodeURIComponent(pr.base)}/${head}`,
        );
        if (data.state === "open") return { number: data.number ?? 0, url: data.html_url ?? "", created: false };
      } catch (error) {
        if (errorStatus(error) !== 404) throw error;
      }
      const { data: list } = await call<PullRequest[]>("GET", `${repoPath(repo)}/pulls?state=open&limit=${PAGE}`);
      const found = list.find((p) => p.head?.ref === pr.head && p.base?.ref === pr.base);
      if (!found)
        throw new ForgeApiError(`[forge] gitea reported a PR for "${pr.head}" but none is open`, {
          forge: "gitea",
          method: "POST",
          url: `${api}${repoPath(repo)}/pulls`,
          status: 409,
        });
      return { number: found.number ?? 0, url: found.html_url ?? "", created: false };
    },

    async getIssue(ref) {
      const { data } = await call<Issue>("GET", `${repoPath(ref.repo)}/issues/${ref.number}`);
      const recent = (await comments(ref)).slice(-20);
      return {
        number: data.number ?? ref.number,
        title: data.title ?? "",
        body: data.body ?? "",
        state: data.state === "closed" ? "closed" : "open",
        isPr: Boolean(data.pull_request),
        labels: (data.labels ?? []).map((l) => l.name ?? "").filter(Boolean),
        htmlUrl: data.html_url,
        comments: recent.map(toComment),
      };
    },

    ...giteaPulls(call, repoPath),

    async getRepository(repo) {
      const { data } = await call<Repository>("GET", repoPath(repo));
      return {
        defaultBranch: data.default_branch ?? "main",
        cloneUrl: data.clone_url ?? repo.cloneUrl,
        private: Boolean(data.private),
      };
    },

    async gitCredentials() {
      return opts.token ? { username: opts.botLogin ?? "forgehand", password: opts.token, hosts: gitHosts } : null;
    },
  });
}
