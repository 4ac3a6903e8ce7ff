import type { components } from "@octokit/openapi-types";
import type {
  EmulatedComment,
  EmulatedIssue,
  EmulatedLabel,
  EmulatedPull,
  EmulatedReaction,
  EmulatedRepo,
  EmulatedReview,
} from "./emulator-state";
import { headRepoOf } from "./pull-heads";

// Shapes held to GitHub's OpenAPI document: when @octokit/openapi-types changes a field
// the emulator builds, typecheck fails here. Very large schemas are `Pick`ed to the fields
// forgehand reads (every picked field keeps its official type).
type S = components["schemas"];
export type GhUser = S["simple-user"];
export type GhLabel = S["label"];
export type GhComment = S["issue-comment"];
export type GhReaction = S["reaction"];
export type GhPermission = S["repository-collaborator-permission"];
export type GhInstallationToken = S["installation-token"];
export type GhPublicUser = S["public-user"];
export type GhApp = NonNullable<S["integration"]>;
export type GhIssue = Pick<
  S["issue"],
  | "id"
  | "node_id"
  | "url"
  | "repository_url"
  | "labels_url"
  | "comments_url"
  | "events_url"
  | "html_url"
  | "number"
  | "state"
  | "title"
  | "body"
  | "user"
  | "labels"
  | "assignee"
  | "milestone"
  | "locked"
  | "comments"
  | "pull_request"
  | "closed_at"
  | "created_at"
  | "updated_at"
  | "author_association"
>;
export type GhRepo = Pick<
  S["full-repository"],
  "id" | "node_id" | "name" | "full_name" | "owner" | "private" | "html_url" | "url" | "clone_url" | "default_branch"
>;
/** The part of a PR branch's repository forgehand reads (`full_name`; a fork's differs from the base's). */
export type GhBranchRepo = Pick<S["repository"], "id" | "name" | "full_name" | "clone_url" | "fork" | "private">;
export type GhPull = Pick<
  S["pull-request"],
  "id" | "number" | "state" | "title" | "body" | "html_url" | "url" | "merged" | "draft" | "user" | "labels"
> & {
  head: Pick<S["pull-request"]["head"], "ref" | "label" | "sha"> & { repo: GhBranchRepo };
  base: Pick<S["pull-request"]["base"], "ref" | "label" | "sha"> & { repo: GhBranchRepo };
};
export type GhReview = Pick<
  S["pull-request-review"],
  "id" | "node_id" | "user" | "body" | "state" | "html_url" | "pull_request_url" | "commit_id" | "submitted_at"
>;

export function ghUser(base: string, login: string): GhUser {
  const url = `${base}/users/${login}`;
  return {
    login,
    id: hash(login),
    node_id: `U_${login}`,
    avatar_url: "",
    gravatar_id: null,
    url,
    html_url: `${base}/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: login.endsWith("[bot]") ? "Bot" : "User",
    site_admin: false,
  };
}

/** `GET /user` for a token's own account (the public part; forgehand reads `login`). */
export function ghPublicUser(base: string, login: string): GhPublicUser {
  return {
    ...ghUser(base, login),
    name: null,
    company: null,
    blog: null,
    location: null,
    email: null,
    hireable: null,
    bio: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: "2020-01-01T00:00:00Z",
    updated_at: "2020-01-01T00:00:00Z",
  };
}

/** `GET /app`: the authenticated App (its events carry the login `${slug}[bot]`). */
export function ghApp(base: string, app: { id: number; slug: string }): GhApp {
  return {
    id: app.id,
    slug: app.slug,
    node_id: `A_${app.id}`,
    owner: ghUser(base, "acme"),
    name: app.slug,
    description: null,
    external_url: `${base}/apps/${app.slug}`,
    html_url: `${base}/apps/${app.slug}`,
    created_at: "2020-01-01T00:00:00Z",
    updated_at: "2020-01-01T00:00:00Z",
    permissions: { issues: "write", pull_requests: "write", contents: "write", metadata: "read" },
    events: ["issues", "issue_comment", "pull_request"],
  };
}

export function ghLabel(base: string, repo: EmulatedRepo, label: EmulatedLabel): GhLabel {
  return {
    id: label.id,
    node_id: `LA_${label.id}`,
    url: `${base}/repos/${repo.fullName}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    description: label.description || null,
    color: label.color,
    default: false,
  };
}

export function ghComment(base: string, repo: EmulatedRepo, c: EmulatedComment): GhComment {
  return {
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${base}/repos/${repo.fullName}/issues/comments/${c.id}`,
    body: c.body,
    html_url: `${base}/${repo.fullName}/issues/${c.issue}#issuecomment-${c.id}`,
    user: ghUser(base, c.author),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    issue_url: `${base}/repos/${repo.fullName}/issues/${c.issue}`,
    author_association: association(repo, c.author),
  };
}

export function ghReaction(base: string, r: EmulatedReaction): GhReaction {
  return {
    id: r.id,
    node_id: `R_${r.id}`,
    user: ghUser(base, r.user),
    content: r.content as GhReaction["content"],
    created_at: new Date().toISOString(),
  };
}

export function ghIssue(base: string, repo: EmulatedRepo, issue: EmulatedIssue): GhIssue {
  const url = `${base}/repos/${repo.fullName}/issues/${issue.number}`;
  const labels = issue.labels.map((name) => repo.labels.find((l) => l.name === name)).filter((l) => l !== undefined);
  return {
    id: issue.number + repo.id * 1000,
    node_id: `I_${repo.id}_${issue.number}`,
    url,
    repository_url: `${base}/repos/${repo.fullName}`,
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `${base}/${repo.fullName}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    title: issue.title,
    body: issue.body,
    user: ghUser(base, issue.author),
    labels: labels.map((l) => ghLabel(base, repo, l)),
    assignee: null,
    milestone: null,
    locked: false,
    comments: repo.comments.filter((c) => c.issue === issue.number).length,
    pull_request: issue.isPr
      ? {
          url: `${base}/repos/${repo.fullName}/pulls/${issue.number}`,
          html_url: `${base}/${repo.fullName}/pull/${issue.number}`,
          diff_url: null,
          patch_url: null,
        }
      : undefined,
    closed_at: null,
    created_at: issue.createdAt,
    updated_at: issue.createdAt,
    author_association: association(repo, issue.author),
  };
}

export function ghRepo(base: string, repo: EmulatedRepo): GhRepo {
  return {
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.name,
    full_name: repo.fullName,
    owner: ghUser(base, repo.owner),
    private: repo.private,
    html_url: `${base}/${repo.fullName}`,
    url: `${base}/repos/${repo.fullName}`,
    clone_url: `${base}/${repo.fullName}.git`,
    default_branch: repo.defaultBranch,
  };
}

export function ghPull(base: string, repo: EmulatedRepo, pr: EmulatedPull, headSha = "0".repeat(40)): GhPull {
  const head = headRepoOf(repo, pr);
  const branchRepo = (fullName: string, name: string, fork: boolean): GhBranchRepo => ({
    id: fork ? hash(fullName) : repo.id,
    name,
    full_name: fullName,
    clone_url: `${base}/${fullName}.git`,
    fork,
    private: repo.private,
  });
  return {
    id: pr.number + repo.id * 1000,
    number: pr.number,
    state: pr.state,
    title: pr.title,
    body: pr.body,
    html_url: `${base}/${repo.fullName}/pull/${pr.number}`,
    url: `${base}/repos/${repo.fullName}/pulls/${pr.number}`,
    merged: pr.merged,
    draft: false,
    labels: (repo.issues.get(pr.number)?.labels ?? [])
      .map((name) => repo.labels.find((l) => l.name === name))
      .filter((l) => l !== undefined)
      .map((l) => ghLabel(base, repo, l)),
    user: ghUser(base, pr.author ?? repo.owner),
    head: {
      ref: pr.head,
      label: `${head.owner}:${pr.head}`,
      sha: headSha,
      repo: branchRepo(head.fullName, head.name, pr.headRepo !== undefined),
    },
    base: {
      ref: pr.base,
      label: `${repo.owner}:${pr.base}`,
      sha: "0".repeat(40),
      repo: branchRepo(repo.fullName, repo.name, false),
    },
  };
}

export function ghReview(base: string, repo: EmulatedRepo, r: EmulatedReview): GhReview {
  return {
    id: r.id,
    node_id: `PRR_${r.id}`,
    user: ghUser(base, r.author),
    body: r.body,
    state: r.event === "COMMENT" ? "COMMENTED" : r.event,
    html_url: `${base}/${repo.fullName}/pull/${r.pull}#pullrequestreview-${r.id}`,
    pull_request_url: `${base}/repos/${repo.fullName}/pulls/${r.pull}`,
    commit_id: null,
    submitted_at: r.submittedAt,
  };
}

/**
 * GitHub's `author_association` from what the emulator knows: the owner is OWNER, anyone holding a
 * role on the repository (read/triage/write/maintain/admin, as an invited collaborator) is
 * COLLABORATOR, everyone else NONE. The emulator has no organisations, so it never says MEMBER.
 */
export function association(repo: EmulatedRepo, login: string): GhComment["author_association"] {
  if (login === repo.owner) return "OWNER";
  const role = repo.permissions.get(login);
  return role && role !== "none" ? "COLLABORATOR" : "NONE";
}

function hash(s: string): number {
  let h = 7;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) % 1_000_000_007;
  return h;
}
