import type { components, operations, paths } from "@octokit/openapi-types";
import type { PullReviewComment } from "gitea-js";
import type { EmulatedRepo, EmulatedReviewComment } from "./emulator-state";
import { gtUser } from "./gitea-shapes";
import { ghUser } from "./github-shapes";

// Inline review comments held to the official descriptions: GitHub's `pull-request-review-comment`
// schema (@octokit/openapi-types, picked to the fields a client reads) and Gitea's `PullReviewComment`
// (gitea-js, generated from the swagger).
export type GhReviewComment = Pick<
  components["schemas"]["pull-request-review-comment"],
  | "id"
  | "node_id"
  | "url"
  | "pull_request_review_id"
  | "diff_hunk"
  | "path"
  | "commit_id"
  | "original_commit_id"
  | "user"
  | "body"
  | "created_at"
  | "updated_at"
  | "html_url"
  | "pull_request_url"
  | "line"
  | "original_line"
  | "side"
>;

/**
 * The GitHub routes pull-read-routes.ts answers, as GitHub's OpenAPI document names them: a path renamed or
 * removed there, or a query value the client sends (`sort=created`, `direction=desc`) dropped, fails typecheck.
 */
type ListReviewComments = paths["/repos/{owner}/{repo}/pulls/{pull_number}/comments"]["get"];
type ListQuery = NonNullable<operations["pulls/list-review-comments"]["parameters"]["query"]>;
export type GhPullReadRoutes = [
  ListReviewComments,
  paths["/repos/{owner}/{repo}/pulls/{pull_number}"]["get"],
  "created" extends ListQuery["sort"] ? true : never,
  "desc" extends ListQuery["direction"] ? true : never,
  GhReviewComment[] extends Pick<
    ListReviewComments["responses"]["200"]["content"]["application/json"][number],
    keyof GhReviewComment
  >[]
    ? true
    : never,
];
export const GH_PULL_READ_ROUTES_CHECKED: [GhPullReadRoutes[2], GhPullReadRoutes[3], GhPullReadRoutes[4]] = [
  true,
  true,
  true,
];

export function ghReviewComment(base: string, repo: EmulatedRepo, c: EmulatedReviewComment): GhReviewComment {
  return {
    id: c.id,
    node_id: `PRRC_${c.id}`,
    url: `${base}/repos/${repo.fullName}/pulls/comments/${c.id}`,
    pull_request_review_id: c.review,
    diff_hunk: "@@ -1 +1 @@",
    path: c.path,
    commit_id: "0".repeat(40),
    original_commit_id: "0".repeat(40),
    user: ghUser(base, c.author),
    body: c.body,
    created_at: c.createdAt,
    updated_at: c.createdAt,
    html_url: `${base}/${repo.fullName}/pull/${c.pull}#discussion_r${c.id}`,
    pull_request_url: `${base}/repos/${repo.fullName}/pulls/${c.pull}`,
    ...(c.line ? { line: c.line, original_line: c.line } : {}),
    side: "RIGHT",
  };
}

export function gtReviewComment(base: string, repo: EmulatedRepo, c: EmulatedReviewComment): PullReviewComment {
  return {
    id: c.id,
    pull_request_review_id: c.review,
    body: c.body,
    path: c.path,
    position: c.line ?? 0,
    original_position: 0,
    commit_id: "0".repeat(40),
    diff_hunk: "@@ -1 +1 @@",
    user: gtUser(base, c.author),
    created_at: c.createdAt,
    updated_at: c.createdAt,
    html_url: `${base}/${repo.fullName}/pulls/${c.pull}/files#issuecomment-${c.id}`,
    pull_request_url: `${base}/${repo.fullName}/pulls/${c.pull}`,
  };
}
