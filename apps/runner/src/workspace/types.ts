import type { GitCredentials, Logger, RepoRef } from "@forgehand/core";
import type { WorktreeInfo } from "./list-worktrees";

export interface WorkspacesOptions {
  /** Data dir holding `mirrors/`, `worktrees/`, `askpass.sh`. */
  rootDir: string;
  logger?: Logger;
  /** Author and committer of the bot's commits. */
  author: { name: string; email: string };
  /** First part of every branch: `forgehand` → `forgehand/12-fix-login`. */
  branchPrefix: string;
  /** Limit for fetch, ls-remote and push. @defaultValue 300000 */
  networkTimeoutMs?: number;
  /**
   * Where the per-issue agent HOMEs live (`<data>/agent-homes`, see `agentHomeDir`): the sweep removes an
   * issue's HOME with its worktree, and orphan HOMEs (no worktree) older than the retention. Unset: none.
   */
  agentHomesDir?: string;
  /**
   * Whether a text holds the literal value of a secret forgehand holds (the process redactor's
   * `containsSecret`). Set: every push first checks the new commits' patches and messages and refuses to
   * publish one (`SecretInPushError`, see scan-push.ts). Unset: no check.
   */
  containsSecret?: (text: string) => boolean;
}

/** The pull request a PR stage works on, as the forge answered it when the run started (`getPullRequest`). */
export interface PullRequestHead {
  number: number;
  /** The head branch, for a same-repository PR (pushed to); absent for a fork (fetched from `refs/pull/N/head`, never pushed). */
  headBranch?: string;
  headSha: string;
}

export interface PrepareInput {
  repo: RepoRef;
  issue: number;
  title: string;
  credentials: GitCredentials | null;
  /** Branch to start from when the issue has no branch on the remote yet. @defaultValue repo.defaultBranch, else the remote HEAD */
  baseBranch?: string;
  /**
   * Work on this pull request's head instead of the issue's own branch: the worktree starts from the head's
   * fetched tip, and `branch` is the head branch (a fork's: `pull/<N>/head`, which `push` refuses).
   */
  pullRequest?: PullRequestHead;
}

export interface PreparedWorkspace {
  worktree: string;
  branch: string;
  baseBranch: string;
  baseSha: string;
  /** Commit the worktree was reset to: the remote branch tip when continuing, else `baseSha`. */
  startSha: string;
  /** True when the branch already existed on the remote (a later stage continues earlier work). */
  continued: boolean;
  /** Why the credentials given were not used: the clone URL is not on a host they are for. */
  credentialsWithheld?: string;
}

/** Mirrors, per-issue worktrees, commits and pushes for the runner. */
export interface Workspaces {
  prepare(input: PrepareInput): Promise<PreparedWorkspace>;
  commitAll(worktree: string, message: string): Promise<{ committed: boolean; sha?: string }>;
  push(worktree: string, branch: string, repo: RepoRef, credentials: GitCredentials | null): Promise<void>;
  /** The worktree's HEAD commit, or undefined when the worktree is gone or broken (checkpointed runs). */
  head(worktree: string): Promise<string | undefined>;
  remove(worktree: string): Promise<void>;
  /**
   * Removes worktrees (and their local branches) not used for `olderThanMs`, plus broken ones, each only
   * through `guard`; `olderThanMs <= 0` removes nothing. One worktree failing never stops the sweep.
   */
  sweep(olderThanMs: number, guard: SweepGuard, opts?: { signal?: AbortSignal }): Promise<SweepResult>;
}

/** What a stage run uses of the workspaces; a runner given only these (tests, embedding) sweeps nothing. */
export type StageWorkspaces = Pick<Workspaces, "prepare" | "commitAll" | "push"> & Partial<Pick<Workspaces, "head">>;

/**
 * Runs `remove` while no run can start on the worktree's issue (the runner holds the issue lease), and
 * resolves true; resolves false without calling it when the issue is busy.
 */
export type SweepGuard = (worktree: WorktreeInfo, remove: () => Promise<void>) => Promise<boolean>;

export interface SweepResult {
  removed: WorktreeInfo[];
  /** Old or broken worktrees left in place: `busy` (guard said no), `used` (a run used it meanwhile), `error`. */
  skipped: Array<WorktreeInfo & { reason: "busy" | "used" | "error" }>;
  /** Agent HOMEs removed: with their worktree, or as orphans (no worktree, unchanged for the retention). */
  agentHomesRemoved: string[];
}
