import type {
  Comment,
  Issue,
  Label,
  PullRequest,
  PullReview,
  Reaction,
  RepoCollaboratorPermission,
  Repository,
  User,
} from "gitea-js";
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

// Shapes held to Gitea's swagger through the generated types of `gitea-js`.
export type { Comment, Issue, Label, PullRequest, PullReview, Reaction, RepoCollaboratorPermission, Repository, User };

export function gtUser(base: string, login: string): User {
  const user: User = {
    id: hash(login),
    login,
    login_name: "",
    full_name: "",
    email: `${login}@noreply.local`,
    avatar_url: "",
    html_url: `${base}/${login}`,
    is_admin: false,
  };
  // Gitea's User also marshals the legacy `username` alias.
  return { ...user, username: login } as User;
}

export function gtLabel(base: string, repo: EmulatedRepo, label: EmulatedLabel): Label {
  return {
    id: label.id,
    name: label.name,
    color: label.color,
    description: label.description,
    exclusive: false,
    is_archived: false,
    url: `${base}/api/v1/repos/${repo.fullName}/labels/${label.id}`,
  };
}

export function gtComment(base: string, repo: EmulatedRepo, c: EmulatedComment, isPr: boolean): Comment {
  return {
    id: c.id,
    body: c.body,
    html_url: `${base}/${repo.fullName}/${isPr ? "pulls" : "issues"}/${c.issue}#issuecomment-${c.id}`,
    issue_url: isPr ? "" : `${base}/${repo.fullName}/issues/${c.issue}`,
    pull_request_url: isPr ? `${base}/${repo.fullName}/pulls/${c.issue}` : "",
    user: gtUser(base, c.author),
    original_author: "",
    original_author_id: 0,
    assets: [],
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

export function gtReaction(base: string, r: EmulatedReaction): Reaction {
  return { user: gtUser(base, r.user), content: r.content, created_at: new Date().toISOString() };
}

export function gtIssue(base: string, repo: EmulatedRepo, issue: EmulatedIssue): Issue {
  const labels = issue.labels.map((name) => repo.labels.find((l) => l.name === name)).filter((l) => l !== undefined);
  return {
    id: issue.number + repo.id * 1000,
    number: issue.number,
    url: `${base}/api/v1/repos/${repo.fullName}/issues/${issue.number}`,
    html_url: `${base}/${repo.fullName}/${issue.isPr ? "pulls" : "issues"}/${issue.number}`,
    title: issue.title,
    body: issue.body,
    state: issue.state,
    user: gtUser(base, issue.author),
    labels: labels.map((l) => gtLabel(base, repo, l)),
    comments: repo.comments.filter((c) => c.issue === issue.number).length,
    is_locked: false,
    pull_request: issue.isPr
      ? {
          merged: false,
          merged_at: undefined,
          draft: false,
          html_url: `${base}/${repo.fullName}/pulls/${issue.number}`,
        }
      : undefined,
    repository: { id: repo.id, name: repo.name, owner: repo.owner, full_name: repo.fullName },
    created_at: issue.createdAt,
    updated_at: issue.createdAt,
  };
}

export function gtRepo(
  base: string,
  repo: EmulatedRepo,
  viewer?: { admin: boolean; push: boolean; pull: boolean },
): Repository {
  return {
    id: repo.id,
    name: repo.name,
    full_name: repo.fullName,
    owner: gtUser(base, repo.owner),
    private: repo.private,
    html_url: `${base}/${repo.fullName}`,
    clone_url: `${base}/${repo.fullName}.git`,
    ssh_url: `git@emulator:${repo.fullName}.git`,
    default_branch: repo.defaultBranch,
    permissions: viewer ?? { admin: false, push: false, pull: true },
  };
}

export function gtPull(base: string, repo: EmulatedRepo, pr: EmulatedPull, headSha = "0".repeat(40)): PullRequest {
  const head = headRepoOf(repo, pr);
  const headId = pr.headRepo ? hash(head.fullName) : repo.id;
  const branchRepo = (id: number, fullName: string, name: string, owner: string, fork: boolean): Repository => ({
    id,
    name,
    full_name: fullName,
    owner: gtUser(base, owner),
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
    html_url: `${base}/${repo.fullName}/pulls/${pr.number}`,
    url: `${base}/${repo.fullName}/pulls/${pr.number}`,
    merged: pr.merged,
    draft: false,
    // Gitea's label deliveries carry the PR's labels here; forgehand diffs them (docs/FORGES.md §2.3).
    labels: (repo.issues.get(pr.number)?.labels ?? [])
      .map((name) => repo.labels.find((l) => l.name === name))
      .filter((l) => l !== undefined)
      .map((l) => gtLabel(base, repo, l)),
    user: gtUser(base, pr.author ?? repo.owner),
    head: {
      ref: pr.head,
      label: pr.head,
      sha: headSha,
      repo_id: headId,
      repo: branchRepo(headId, head.fullName, head.name, head.owner, pr.headRepo !== undefined),
    },
    base: {
      ref: pr.base,
      label: pr.base,
      sha: "0".repeat(40),
      repo_id: repo.id,
      repo: branchRepo(repo.id, repo.fullName, repo.name, repo.owner, false),
    },
  };
}

export function gtReview(base: string, repo: EmulatedRepo, r: EmulatedReview): PullReview {
  return {
    id: r.id,
    body: r.body,
    state: r.event,
    user: gtUser(base, r.author),
    html_url: `${base}/${repo.fullName}/pulls/${r.pull}#issuecomment-${r.id}`,
    pull_request_url: `${base}/${repo.fullName}/pulls/${r.pull}`,
    submitted_at: r.submittedAt,
    comments_count: repo.reviewComments.filter((c) => c.review === r.id).length,
  };
}

function hash(s: string): number {
  let h = 11;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) % 1_000_000_007;
  return h;
}
