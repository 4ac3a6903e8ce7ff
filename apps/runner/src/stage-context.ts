import type { Config, Logger, RunCheckpoint, RunRecord, RunState, Stage } from "@forgehand/core";
import type { ForgeClient, ForgeIssue } from "@forgehand/forge";
import type { LogStream, StageJob, StageOutputStore } from "@forgehand/queue";
import type { RunOutcome } from "@forgehand/supervisor";
import type { AgentSessionStore } from "./agent-session";
import type { RunGateFn, StageWorkspaces, SuperviseFn } from "./ports";
import type { RunBudget } from "./run-budget";

/** Everything one stage run needs; the caller owns the lease, the record and retries. */
export interface StageContext {
  job: StageJob;
  stage: Stage;
  config: Config;
  configDir: string;
  forge: ForgeClient;
  workspaces: StageWorkspaces;
  supervise: SuperviseFn;
  runGate: RunGateFn;
  registryDir: string;
  /** The data dir (agent HOMEs live under it; hidden from the sandbox). @defaultValue dirname(registryDir) */
  dataDir?: string;
  env: NodeJS.ProcessEnv;
  /** Aborted by /stop, shutdown or a lost lease; the supervisor then kills the agent (verified). */
  signal: AbortSignal;
  logger: Logger;
  /** Live counters and facts for the run record and status comment. */
  onProgress(patch: Partial<RunRecord>): void;
  onLog(stream: LogStream, line: string): void;
  /** Called once the issue is read, before any slow step. */
  onIssue?(issue: ForgeIssue): void;
  /**
   * What earlier attempts of this run used (a transient retry, a lease lost, a shutdown): `maxTurns` and
   * `maxBudgetUsd` hold for the whole run, so retries cannot multiply the budget, and the record shows the total.
   */
  spent?: { turns: number; costUsd: number };
  /** The `budgets:` caps shared by every runner: refuses the start over a cap, stops the run that crosses one. */
  budget?: RunBudget;
  /**
   * The process's redactor: applied to every text this run sends to the forge or to git itself (PR title
   * and body, commit message, failure reasons).
   */
  redact: (text: string) => string;
  /** Earlier stages' outputs on this issue (`{{previous.output}}`, `{{stages.<name>.output}}`). */
  outputs?: StageOutputStore;
  /**
   * The Redis every runner shares: agent sessions (so `/retry` resumes on any runner, agent-session.ts) and the
   * PR → issue mapping of the PRs this run opens (pr-issues.ts). Unset: sessions stay in HOME, no mapping.
   */
  shared?: AgentSessionStore;
  /**
   * An earlier attempt's checkpoint (its runner died while publishing): the stage publishes it from the same
   * worktree instead of running the agent again, when the worktree still holds that commit (checkpoint.ts).
   */
  checkpoint?: RunCheckpoint;
  /**
   * Stores the checkpoint before anything is published, then each publishing step once it is done; awaited, so
   * a runner that dies right after a step never repeats it. Unset (tests, embedding): no checkpoints.
   */
  saveCheckpoint?(checkpoint: RunCheckpoint): Promise<void>;
}

/** How a stage run ended. `transient` means the caller may retry it with backoff. */
export interface StageResult {
  state: RunState;
  reason?: string;
  transient?: { why: string; retryAfterMs?: number };
  prUrl?: string;
  outcome?: RunOutcome;
  /** The agent's final message, redacted (not capped: the caller logs it whole and caps what it stores). */
  output?: string;
}

/** A slow step's value, or the result that ends the stage when it threw. */
export type Step<T> = { ok: true; value: T } | { ok: false; result: StageResult };

/** The tools a stage run uses, the same for every run of a runner. */
export type StageTools = Pick<
  StageContext,
  "workspaces" | "supervise" | "runGate" | "registryDir" | "dataDir" | "env" | "redact" | "outputs" | "shared"
>;
