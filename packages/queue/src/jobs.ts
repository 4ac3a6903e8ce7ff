import { createHash } from "node:crypto";
import { IssueRef, isValidSessionId, type SlashCommand } from "@forgehand/core";
import { z } from "zod";

/** Stage runs: long, limited by `runner.concurrency`. */
export const STAGE_QUEUE = "forgehand-stage";
/** Slash commands: short, authorised and acted on by the runner process, never blocked behind stage runs. */
export const COMMAND_QUEUE = "forgehand-command";

/** GitHub's limits for an issue title and body (characters); longer text is cut when it enters a job. */
export const ISSUE_TITLE_MAX = 256;
export const ISSUE_BODY_MAX = 65_536;

/** At most `max` UTF-16 units, never ending in half a surrogate pair. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** Who or what asked for a stage run. */
export const Trigger = z.object({
  kind: z.enum(["label", "command", "retry", "operator"]),
  /** Forge login (or `operator`). */
  by: z.string(),
  deliveryId: z.string(),
  /** `command`/`retry`: the comment that asked; the run starts only while it still exists unedited. */
  commentId: z.number().int().optional(),
});
export type Trigger = z.infer<typeof Trigger>;

/** One stage run request. The BullMQ job id is the run id. */
export const StageJob = z.object({
  kind: z.literal("stage"),
  runId: z.string(),
  ref: IssueRef,
  stage: z.string(),
  trigger: Trigger,
  /**
   * `/retry`: resume this agent session where the agent supports it. Becomes agent argv, and anything that can
   * write to Redis can forge a job: a flag-like or malformed id fails the parse (see `validateSessionId`).
   */
  resumeSessionId: z
    .string()
    .refine(isValidSessionId, { message: 'must be 8-128 letters, digits and "-", not starting with "-"' })
    .optional(),
  /** Enqueue time (ms); a stop request newer than this cancels the job before it runs. */
  requestedAt: z.number(),
  /**
   * The issue as the triggering delivery showed it: the prompt uses this, not a later edit
   * (capped at routing time to GitHub's own limits, so a job stays small).
   */
  issueAtTrigger: z.object({ title: z.string().max(ISSUE_TITLE_MAX), body: z.string().max(ISSUE_BODY_MAX) }).optional(),
});
export type StageJob = z.infer<typeof StageJob>;

const SlashCommandSchema: z.ZodType<SlashCommand> = z.union([
  z.object({ name: z.enum(["stop", "retry", "status", "help"]) }),
  z.object({ name: z.literal("run"), stage: z.string() }),
  z.object({ name: z.literal("unknown"), raw: z.string() }),
]) as z.ZodType<SlashCommand>;

/** Slash commands from one comment, to be authorised and carried out by a runner. */
export const CommandJob = z.object({
  kind: z.literal("command"),
  ref: IssueRef,
  commentId: z.number().int(),
  sender: z.object({ login: z.string(), authorAssociation: z.string().optional() }),
  commands: z.array(SlashCommandSchema).min(1),
  deliveryId: z.string(),
  requestedAt: z.number(),
});
export type CommandJob = z.infer<typeof CommandJob>;

/** Why a run is asked to stop. */
export const StopReason = z.enum([
  "command",
  "label_removed",
  "issue_closed",
  "pr_closed",
  "pr_merged",
  "operator",
  "shutdown",
]);
export type StopReason = z.infer<typeof StopReason>;

/** A stop request for whatever runs (or waits) on one issue, or for one run id. */
export const StopRequest = z.object({
  /** `issueKey(ref)`; set for stops that come from the forge. */
  issue: z.string().optional(),
  /**
   * With `issue`: only that stage's runs on the issue (a removed stage label stops its own stage, not the
   * other stages running or queued on the issue). Absent: every run on the issue (/stop, close, merge).
   */
  stage: z.string().optional(),
  runId: z.string().optional(),
  by: z.string(),
  reason: StopReason,
  at: z.number(),
});
export type StopRequest = z.infer<typeof StopRequest>;

/**
 * Deterministic run id for a stage triggered by one delivery, so that the same
 * delivery can never enqueue the same stage twice (BullMQ ignores a duplicate job id).
 */
export function runIdFor(forge: string, deliveryId: string, stage: string, issue: string): string {
  return `r${createHash("sha256").update(`${forge}\0${deliveryId}\0${stage}\0${issue}`).digest("hex").slice(0, 12)}`;
}
