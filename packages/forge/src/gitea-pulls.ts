import type { RepoRef } from "@forgehand/core";
import type { PullRequest, PullReview, PullReviewComment } from "gitea-js";
import type { ForgePullRequest, ForgeReview, PullRequestReviewComment } from "./forge-client";
import { REVIEW_COMMENTS_MAX } from "./review-comments-max";

type Call = <T>(
  method: string,
  path: string,
  body?: unknown,
  opts?: { text?: boolean },
) => Promise<{ status: number; data: T; headers: Headers }>;

const PAGE = 50;
/** Pages of reviews read at most (a review is one request more only when it has comments). */
const MAX_REVIEW_PAGES = 20;

/** The PR calls of the Gitea client (gitea-client.ts), on its retrying `call`. */
export function giteaPulls(call: Call, repoPath: (repo: RepoRef) => string) {
  return {
    /**
     * `GET /repos/{o}/{r}/pulls/{index}`. A fork is a head whose `repo_id` (or repository) is not the base's;
     * a head without a repository (fork deleted) counts as one.
     */
    async getPullRequest(repo: RepoRef, number: number): Promise<ForgePullRequest> {
      const { data } = await call<PullRequest>("GET", `${repoPath(repo)}/pulls/${number}`);
      const headRepo = data.head?.repo?.full_name ?? null;
      const baseRepo = data.base?.repo?.full_name ?? repo.fullName;
      const headId = data.head?.repo_id ?? data.head?.repo?.id;
      const baseId = data.base?.repo_id ?? data.base?.repo?.id;
      const sameById = headId !== undefined && baseId !== undefined && headId === baseId;
      const sameByName = headRepo !== null && headRepo.toLowerCase() === baseRepo.toLowerCase();
      const ref = data.head?.ref ?? "";
      const sha = data.head?.sha ?? "";
      if (!ref || !sha) throw new Error(`[forge] gitea PR #${number} of ${repo.fullName} has no head ref or sha`);
      return {
        number: data.number ?? number,
        state: data.state === "closed" ? "closed" : "open",
        merged: Boolean(data.merged),
        ...(data.html_url ? { htmlUrl: data.html_url } : {}),
        head: { ref, sha, repoFullName: headRepo },
        base: { ref: data.base?.ref ?? "", repoFullName: baseRepo },
        fork: headId !== undefined && baseId !== undefined ? !sameById : !sameByName,
      };
    },

    /** `POST /repos/{o}/{r}/pulls/{index}/reviews` `{ body, event: "COMMENT" }` (CreatePullReviewOptions). */
    async createReview(repo: RepoRef, number: number, body: string): Promise<ForgeReview> {
      const { data } = await call<PullReview>("POST", `${repoPath(repo)}/pulls/${number}/reviews`, {
        body,
        event: "COMMENT",
      });
      return { id: data.id ?? 0, ...(data.html_url ? { htmlUrl: data.html_url } : {}) };
    },

    /** `GET /repos/{o}/{r}/pulls/{index}.diff` (`repoDownloadPullDiffOrPatch`, `produces: text/plain`). */
    async getPullRequestDiff(repo: RepoRef, number: number): Promise<string> {
      return (await call<string>("GET", `${repoPath(repo)}/pulls/${number}.diff`, undefined, { text: true })).data;
    },

    /**
     * Gitea lists inline comments per review: `GET …/pulls/{index}/reviews`, then `…/reviews/{id}/comments`
     * for the newest reviews that have comments until REVIEW_COMMENTS_MAX; returned oldest first.
     */
    async listPullRequestReviewComments(repo: RepoRef, number: number): Promise<PullRequestReviewComment[]> {
      const base = `${repoPath(repo)}/pulls/${number}/reviews`;
      const reviews: PullReview[] = [];
      for (let page = 1; page <= MAX_REVIEW_PAGES; page++) {
        const { data, headers } = await call<PullReview[]>("GET", `${base}?page=${page}&limit=${PAGE}`);
        reviews.push(...data);
        const total = Number(headers.get("x-total-count"));
        // A short page ends the list, or X-Total-Count when the server caps `limit` below PAGE.
        if (data.length === 0 || (Number.isFinite(total) && total > 0 ? reviews.length >= total : data.length < PAGE))
          break;
      }
      const found: PullReviewComment[] = [];
      for (const review of [...reviews].reverse()) {
        if (found.length >= REVIEW_COMMENTS_MAX) break;
        if (review.id === undefined || review.comments_count === 0) continue;
        found.push(...(await call<PullReviewComment[]>("GET", `${base}/${review.id}/comments`)).data);
      }
      const at = (c: PullReviewComment) => Date.parse(c.created_at ?? "") || 0;
      return found
        .sort((a, b) => at(a) - at(b) || (a.id ?? 0) - (b.id ?? 0))
        .slice(-REVIEW_COMMENTS_MAX)
        .map((c) => {
          // `position` is the line in the new file, `original_position` in the old one (0: none).
          const line = c.position || c.original_position;
          return {
            id: c.id ?? 0,
            author: c.user?.login ?? "",
            body: c.body ?? "",
            path: c.path ?? "",
            ...(line ? { line } : {}),
          };
        });
    },
  };
}
