import type { IssueRef, Logger, RunRecord } from "@forgehand/core";
import type { ForgeClient } from "@forgehand/forge";
import type { KillReport, RunOutcome, SandboxOptions, SuperviseOptions } from "@forgehand/supervisor";

/** The workspace API (apps/runner/src/workspace): mirror + worktree per issue branch; a stage uses `StageWorkspaces`. */
export type { StageWorkspaces, Workspaces } from "./workspace/types";

/** The supervisor's entry point (packages/supervisor). */
export type SuperviseFn = (options: SuperviseOptions) => Promise<RunOutcome>;
/** Kills agents a crashed runner left behind (packages/supervisor). */
export type ReapOrphansFn = (registryDir: string, logger?: Logger) => Promise<KillReport[]>;

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
    /** Run the gate in this sandbox (the stage agent's; fails closed). */
    sandbox?: SandboxOptions;
    /** The supervisor's notes on the gate run (sandbox, egress denied). */
    onSystemLog?: (line: string) => void;
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
