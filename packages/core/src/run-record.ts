import { z } from "zod";
import { ForgeId } from "./forge-event";

/** Run states. `queued` and `running` are live; the rest are terminal. */
export const RunState = z.enum([
  "queued",
  "running",
  "succeeded",
  "failed",
  "stopped",
  "timed_out",
  "stalled",
  "turn_limit",
  "budget_limit",
]);
export type RunState = z.infer<typeof RunState>;

export const TERMINAL_STATES: readonly RunState[] = RunState.exclude(["queued", "running"]).options;

/** True when a run in this state has ended (and, by contract, every process of it was verified gone). */
export function isTerminal(state: RunState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** What is stored for each run and served by `/api/runs` and `forgehand runs`. */
export const RunRecord = z.object({
  id: z.string(),
  forge: ForgeId,
  repo: z.string(),
  issue: z.number().int(),
  isPr: z.boolean().default(false),
  stage: z.string(),
  state: RunState,
  createdAt: z.number(),
  startedAt: z.number().optional(),
  endedAt: z.number().optional(),
  turns: z.number().int().default(0),
  maxTurns: z.number().int().optional(),
  costUsd: z.number().default(0),
  /** `costUsd` is still a live estimate from the stream's text (codex, gemini report tokens only at the end). */
  costEstimated: z.boolean().optional(),
  budgetUsd: z.number().optional(),
  sessionId: z.string().optional(),
  attempts: z.number().int().default(0),
  /** Plain-words reason for the terminal state (which limit, who stopped it, gate output tail…). */
  reason: z.string().optional(),
  stoppedBy: z.string().optional(),
  trigger: z.string().optional(),
  prUrl: z.string().optional(),
  branch: z.string().optional(),
  /** Web link to the branch (a compare view against the base), once the branch exists. */
  branchUrl: z.string().optional(),
  /** The agent's final message (redacted, capped at STAGE_OUTPUT_MAX; the run log has all of it). */
  output: z.string().optional(),
  runner: z.string().optional(),
  statusCommentId: z.number().optional(),
  lastActions: z.array(z.string()).default([]),
  /** What a live agent is waiting for by itself ("API retry 2/10 after 529 …"); "" once it is active again. */
  waiting: z.string().optional(),
  /**
   * True once a run that started has had its end announced on the forge (stage output posted, final status
   * comment edited). A runner that dies between recording the end and announcing it leaves this unset, and the
   * re-picked job announces it instead of leaving the status comment saying `running` forever.
   */
  announced: z.boolean().optional(),
  /** False when the stage's agent ran with `sandbox: { enabled: false }` (every status comment then says so). */
  sandboxed: z.boolean().optional(),
  /**
   * Written once the agent (and gate) finished and its work was committed, before any forge write: a job
   * re-picked after its runner died publishes this instead of running (and paying for) the agent again.
   */
  checkpoint: z
    .object({
      at: z.number(),
      /** The worktree's HEAD after the commit: what gets pushed (a worktree at another commit is not used). */
      head: z.string().optional(),
      committed: z.boolean(),
      /**
       * The agent succeeded but the gate and the commit are still to come (`head` is the worktree's HEAD as the
       * agent left it; its changes are uncommitted there). Written the moment the agent ends.
       */
      pending: z.boolean().optional(),
      worktree: z.string(),
      branch: z.string(),
      baseBranch: z.string(),
      /** The agent's final message, redacted and capped (the PR body's summary, a review's text). */
      output: z.string().optional(),
      /** Publishing steps already done ("pushing …", "posting the review", labels): never done twice. */
      done: z.array(z.string()).default([]),
    })
    .optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;

/** What a finished agent left for publishing (RunRecord.checkpoint). */
export type RunCheckpoint = NonNullable<RunRecord["checkpoint"]>;
