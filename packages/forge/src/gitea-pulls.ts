import type { RepoRef } from "@forgehand/core";
import type { PullRequest, PullReview } from "gitea-js";
import type { ForgePullRequest, ForgeReview } from "./forge-client";

type Call = <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; data: T }>;

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
  };
}
