import type { RepoRef } from "@forgehand/core";
import type { Octokit } from "@octokit/rest";
import type { ForgePullRequest, ForgeReview } from "./forge-client";

/** The PR calls of the GitHub client (github-client.ts), on its throttled Octokit. */
export function githubPulls(octokit: Pick<Octokit, "rest">) {
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
  };
}
