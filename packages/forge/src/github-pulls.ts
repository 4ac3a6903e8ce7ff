import type { RepoRef } from "@forgehand/core";
import type { Octokit } from "@octokit/rest";
import type { ForgePullRequest, ForgeReview, PullRequestReviewComment } from "./forge-client";
import { REVIEW_COMMENTS_MAX } from "./review-comments-max";

/** The PR calls of the GitHub client (github-client.ts), on its throttled Octokit. */
export function githubPulls(octokit: Pick<Octokit, "rest" | "paginate">) {
  const r = (repo: RepoRef) => ({ owner: repo.owner, repo: repo.name });
  return {
    /** `GET /repos/{o}/{r}/pulls/{n}`: `head.repo` is null when the fork was deleted, which counts as a fork. */
    async getPullRequest(repo: RepoRef, number: number): Promise<ForgePullRequest> {
      const { data } = await octokit.rest.pulls.get({ ...r(repo), pull_number: number });
      const headRepo = data.head.repo?.full_name ?? null;
      const baseRepo = data.base.repo.full_name;
      return {
        number: data.number,
        state: data.state === "closed" ? "closed" : "open",
        merged: Boolean(data.merged),
        htmlUrl: data.html_url,
        head: { ref: data.head.ref, sha: data.head.sha, repoFullName: headRepo },
        base: { ref: data.base.ref, repoFullName: baseRepo },
        fork: headRepo === null || headRepo.toLowerCase() !== baseRepo.toLowerCase(),
      };
    },

    /** `POST /repos/{o}/{r}/pulls/{n}/reviews` with `event: COMMENT`: a review that neither approves nor blocks. */
    async createReview(repo: RepoRef, number: number, body: string): Promise<ForgeReview> {
      const { data } = await octokit.rest.pulls.createReview({
        ...r(repo),
        pull_number: number,
        body,
        event: "COMMENT",
      });
      return { id: Number(data.id), htmlUrl: data.html_url };
    },

    /** `GET /repos/{o}/{r}/pulls/{n}` with `accept: application/vnd.github.diff`: the unified diff as text. */
    async getPullRequestDiff(repo: RepoRef, number: number): Promise<string> {
      const { data } = await octokit.rest.pulls.get({ ...r(repo), pull_number: number, mediaType: { format: "diff" } });
      // Octokit parses by content-type: a JSON (or binary) answer here is not the diff that was asked for.
      if (typeof data !== "string")
        throw new Error(`[forge] github answered the diff of PR #${number} of ${repo.fullName} with JSON, not text`);
      return data;
    },

    /**
     * `GET /repos/{o}/{r}/pulls/{n}/comments`, newest first until REVIEW_COMMENTS_MAX, returned oldest first:
     * the most recent comments of a long review, in reading order.
     */
    async listPullRequestReviewComments(repo: RepoRef, number: number): Promise<PullRequestReviewComment[]> {
      const newest: PullRequestReviewComment[] = [];
      for await (const page of octokit.paginate.iterator(octokit.rest.pulls.listReviewComments, {
        ...r(repo),
        pull_number: number,
        sort: "created",
        direction: "desc",
        per_page: 100,
      })) {
        for (const c of page.data) {
          const line = c.line ?? c.original_line;
          newest.push({
            id: Number(c.id),
            author: c.user?.login ?? "",
            body: c.body ?? "",
            path: c.path ?? "",
            ...(line ? { line } : {}),
          });
        }
        if (newest.length >= REVIEW_COMMENTS_MAX) break;
      }
      return newest.slice(0, REVIEW_COMMENTS_MAX).reverse();
    },
  };
}
