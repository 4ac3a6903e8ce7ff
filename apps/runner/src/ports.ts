import type { IssueRef, Logger, RepoRef, RunRecord } from "@forgehand/core";
import type { ForgeClient } from "@forgehand/forge";
import type { KillReport, RunOutcome, SuperviseOptions } from "@forgehand/supervisor";

/** The supervisor's entry point (packages/supervisor). */
export type SuperviseFn = (options: SuperviseOptions) => Promise<RunOutcome>;
/** Kills agents a crashed runner left behind (packages/supervisor). */
export type ReapOrphansFn = (registryDir: string, logger?: Logger) => Promise<KillReport[]>;

/** Git credentials as the forge hands them out. */
export type GitCredentials = { username: string; password: string } | null;

/** The workspace API (apps/runner/src/workspace): mirror + worktree per issue branch. */
export interface Workspaces {
  prepare(input: {
    repo: RepoRef;
    issue: number;
    title: string;
    credentials: GitCredentials;
    baseBranch?: string;
  }): Promise<{ worktree: string; branch: string; baseBranch: string; baseSha: string }>;
  commitAll(worktree: string, message: string): Promise<{ committed: boolean; sha?: string }>;
  push(worktree: string, branch: string, repo: RepoRef, credentials: GitCredentials): Promise<void>;
}

/** Runs a stage's gate command (argv) in the worktree. */
export type RunGateFn = (
  argv: string[],
  cwd: string,
  opts: {
    timeoutMs: number;
    env: Record<string, string>;
    signal?: AbortSignal;
    /** Lists the gate in the agents' pid registry while it runs. */
    registry?: { dir: string; runId: string };
  },
) => Promise<{ ok: boolean; exitCode: number | null; outputTail: string }>;

/** Keeps a run's status comment up to date; every method swallows forge errors itself. */
export interface StatusSink {
  /** Latest state of the run; throttled and coalesced, the last call always lands. */
  update(record: RunRecord): void;
  /** Final edit; resolves when it landed (or failed and was logged). */
  finish(record: RunRecord): Promise<void>;
}

/** Creates a status sink for one run on one forge. */
export type StatusSinkFactory = (forge: ForgeClient, record: RunRecord, ref: IssueRef) => StatusSink;
