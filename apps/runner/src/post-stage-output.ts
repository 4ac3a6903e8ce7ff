import { botMarkdown, type IssueRef, type StageOutputMode } from "@forgehand/core";
import type { ForgeClient } from "@forgehand/forge";

/** GitHub rejects comment bodies over 65,536 characters; room is left for the heading and footer. */
const OUTPUT_COMMENT_MAX = 60_000;

/** What posting a stage's output needs. */
export interface PostStageOutputInput {
  forge: ForgeClient;
  ref: IssueRef;
  stage: string;
  runId: string;
  /** The agent's final message, redacted by the supervisor wrapper (redacted again here before it is cut). */
  output: string;
  redact: (text: string) => string;
}

/** Hidden marker of a run's output comment: a repeated finish (a stalled job run twice) edits, never doubles. */
export function outputMarker(runId: string): string {
  return `<!-- forgehand:output=${runId.replace(/[^A-Za-z0-9_.:-]/g, "")} -->`;
}

/** The Markdown of a stage's output comment: heading, the output (Markdown kept, inert), footer. */
export function renderOutputComment(input: Omit<PostStageOutputInput, "forge" | "ref">): string {
  return [
    outputMarker(input.runId),
    `### 📝 forgehand · \`${input.stage}\` output`,
    "",
    botMarkdown(input.output, input.redact, OUTPUT_COMMENT_MAX),
    "",
    `<sub>forgehand run \`${input.runId}\` · stage \`${input.stage}\`</sub>`,
  ].join("\n");
}

async function postAsComment(input: PostStageOutputInput): Promise<void> {
  const body = renderOutputComment(input);
  const marker = outputMarker(input.runId);
  const existing = await input.forge.findCommentByMarker(input.ref, marker);
  if (existing) await input.forge.updateComment(input.ref.repo, existing.id, body);
  else await input.forge.createComment(input.ref, body);
}

/**
 * Posts a succeeded stage's output where `stages[].output` says. `summary` posts nothing here: the final
 * status comment renders `record.output` as its Summary section. `review` posts nothing here either:
 * publish-result.ts posts it (a PR review on a pull request, a comment on an issue) as a retried, idempotent step.
 */
export async function postStageOutput(kind: StageOutputMode, input: PostStageOutputInput): Promise<void> {
  if (!input.output.trim()) return;
  switch (kind) {
    case "summary":
      return;
    case "review":
      return;
    case "comment":
      return postAsComment(input);
  }
}
