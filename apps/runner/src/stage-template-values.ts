import { issueKey, templateVariableNames } from "@forgehand/core";
import type { ForgeIssue } from "@forgehand/forge";
import { loadPullRequestValues } from "./pr-template-values";
import type { PromptContext } from "./render-prompt";
import type { StageContext } from "./stage-context";

/**
 * The values of `{{previous.output}}`, `{{stages.<name>.output}}`, `{{trigger.comment}}` and `{{pr.*}}` a
 * template uses, read only when it uses them (each is a Redis or forge call). Raw and untrusted: the
 * renderer wraps and sanitises them.
 */
export async function loadPromptContext(
  ctx: StageContext,
  template: string,
  issue: ForgeIssue,
): Promise<PromptContext> {
  const names = new Set(templateVariableNames(template));
  const { job, forge, config } = ctx;
  const context: PromptContext = {};
  if (ctx.outputs && [...names].some((n) => n === "previous.output" || n.startsWith("stages."))) {
    const outputs = await ctx.outputs.read(issueKey(job.ref));
    if (outputs.previous) context.previous = { stage: outputs.previous.stage, output: outputs.previous.output };
    context.stages = Object.fromEntries(config.stages.map((s) => [s.name, outputs.byStage[s.name]?.output ?? ""]));
  }
  const { trigger } = job;
  if (names.has("trigger.comment") && (trigger.kind === "command" || trigger.kind === "retry") && trigger.commentId) {
    const comment = await forge.getComment(job.ref.repo, trigger.commentId);
    if (comment) context.triggerComment = comment.body;
  }
  if (job.ref.isPr && [...names].some((n) => n.startsWith("pr.")))
    context.pr = await loadPullRequestValues(forge, job.ref, issue, names);
  return context;
}
