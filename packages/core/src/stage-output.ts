import { z } from "zod";

/**
 * Where a stage's output (the agent's final message) is posted:
 * - `summary` (default): a "Summary" section of the run's final status comment;
 * - `comment`: a comment of its own on the issue or PR (an analysis, a review);
 * - `review`: a pull request review; on an issue (no PR) it is posted as `comment`.
 * The run record and the per-issue output store keep it whichever is chosen.
 */
export const StageOutputMode = z.enum(["summary", "comment", "review"]);
export type StageOutputMode = z.infer<typeof StageOutputMode>;

/**
 * Characters of a stage's output kept in the run record and the per-issue store (what the status
 * comment, a PR body and `{{previous.output}}` see); the run log keeps the whole text.
 */
export const STAGE_OUTPUT_MAX = 30_000;

/** At most `max` UTF-16 units, never ending in half a surrogate pair; a cut text says so. */
export function capOutput(text: string, max = STAGE_OUTPUT_MAX): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}\n\n… [cut: ${text.length - cut.length} more characters in the run log]`;
}
