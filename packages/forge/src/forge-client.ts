import type { ForgeId, GitCredentials, IssueRef, Permission, RepoRef } from "@forgehand/core";
import type { WritePriority } from "./write-budget";

/** A comment as the forge returns it. */
export interface ForgeComment {
  id: number;
  body: string;
  author: string;
  htmlUrl?: string;
  /** ISO timestamps, where the forge gives them: `updatedAt` after `createdAt` means the comment was edited. */
  createdAt?: string;
  updatedAt?: string;
}

/** An issue (or PR) with what prompt templates need. */
export interface ForgeIssue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  isPr: boolean;
  labels: string[];
  htmlUrl?: string;
  /** Most recent comments, oldest first (at most ~20). */
  comments: ForgeComment[];
}

/** An inline review comment on a pull request's diff. */
export interface PullRequestReviewComment {
  id: number;
  author: string;
  body: string;
  path: string;
  line?: number;
}

/** Reactions used by the bot to acknowledge commands. */
export type Reaction = "eyes" | "+1" | "confused";

/** A pull request opened or found for a branch. */
export interface PullRequestInfo {
  number: number;
  url: string;
  /** False when an open PR for the same head already existed. */
  created: boolean;
}

/** A pull request's head and base as the forge reports them now (never as a delivery said). */
export interface ForgePullRequest {
  number: number;
  state: "open" | "closed";
  merged: boolean;
  htmlUrl?: string;
  /** `ref`: the head branch (in `repoFullName`); `sha`: its tip; `repoFullName`: null when the fork was deleted. */
  head: { ref: string; sha: string; repoFullName: string | null };
  base: { ref: string; repoFullName: string };
  /** The head lives in another repository than the base (or its repository is gone). */
  fork: boolean;
}

/** A review posted on a pull request. */
export interface ForgeReview {
  id: number;
  htmlUrl?: string;
}

/**
 * One forge behind one interface (GitHub or Gitea/Forgejo). Writes are idempotent
 * where the forge allows: labels already present are not an error, a missing
 * label on removal is not an error, find-or-create for comments and PRs.
 */
export interface ForgeClient {
  readonly forge: ForgeId;
  /**
   * Origins (`https://github.com`, see `gitOrigin` in core) this forge serves git from. A job's clone URL
   * must be on one of them, and `gitCredentials` are scoped to them.
   */
  readonly gitHosts: readonly string[];
  /** The sender's permission on the repository, from the forge API (never from the payload). */
  getPermission(repo: RepoRef, login: string): Promise<Permission>;
  createComment(ref: IssueRef, body: string): Promise<ForgeComment>;
  /** `priority: "low"` (an intermediate status edit) may be declined with WriteDeferredError when writes queue up. */
  updateComment(repo: RepoRef, commentId: number, body: string, opts?: { priority?: WritePriority }): Promise<void>;
  /** One comment by id, or null when it no longer exists (deleted). */
  getComment(repo: RepoRef, commentId: number): Promise<ForgeComment | null>;
  /** Finds the first comment on the issue whose body contains `marker`. */
  findCommentByMarker(ref: IssueRef, marker: string): Promise<ForgeComment | null>;
  addLabels(ref: IssueRef, labels: string[]): Promise<void>;
  removeLabel(ref: IssueRef, label: string): Promise<void>;
  /** `priority: "low"` (a courtesy reaction) may be declined with WriteDeferredError when writes queue up. */
  addReaction(repo: RepoRef, commentId: number, reaction: Reaction, opts?: { priority?: WritePriority }): Promise<void>;
  findOrCreatePullRequest(
    repo: RepoRef,
    pr: { head: string; base: string; title: string; body: string },
  ): Promise<PullRequestInfo>;
  getIssue(ref: IssueRef): Promise<ForgeIssue>;
  /** The pull request `number` of `repo`, read from the API (head branch, sha and repository, base). */
  getPullRequest(repo: RepoRef, number: number): Promise<ForgePullRequest>;
  /** Posts `body` as a review of pull request `number` with `event: COMMENT` (no approval, no request for changes). */
  createReview(repo: RepoRef, number: number, body: string): Promise<ForgeReview>;
  /** The pull request's unified diff as text (`{{pr.diff}}`), uncut: the caller caps it. */
  getPullRequestDiff(repo: RepoRef, number: number): Promise<string>;
  /** The pull request's most recent inline review comments (at most ~100), oldest first (`{{pr.reviewComments}}`). */
  listPullRequestReviewComments(repo: RepoRef, number: number): Promise<PullRequestReviewComment[]>;
  getRepository(repo: RepoRef): Promise<{ defaultBranch: string; cloneUrl: string; private: boolean }>;
  /**
   * HTTP basic credentials for git clone/push of this repository (token-based), or null
   * for none (e.g. file:// origins), with `hosts: gitHosts`. Passed to git via an askpass helper, never
   * in URLs, and only to a remote on one of those hosts.
   */
  gitCredentials(repo: RepoRef): Promise<GitCredentials | null>;
}

/** Chooses the client for an event's forge (and GitHub App installation). */
export interface ForgeClients {
  for(forge: ForgeId, installationId?: number): ForgeClient;
  /** The bot's own login on a forge, so its own comments and label changes are ignored. */
  botLogin(forge: ForgeId): string | undefined;
}
