import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { type Stage, sanitiseUntrusted, TEMPLATE_PLACEHOLDER } from "@forgehand/core";
import type { ForgeIssue } from "@forgehand/forge";
import type { PromptIssue } from "./issue-as-triggered";

/** Values a prompt template may use; plain text substitution, never evaluated. */
export interface PromptValues {
  issue: ForgeIssue | PromptIssue;
  repo: string;
  stage: string;
  branch: string;
  /** What earlier stages produced and what asked for this run (stage-template-values.ts). */
  context?: PromptContext;
}

/** The values of `{{previous.output}}`, `{{stages.<name>.output}}`, `{{trigger.comment}}` and `{{pr.*}}`, raw. */
export interface PromptContext {
  previous?: { stage: string; output: string };
  stages?: Record<string, string>;
  triggerComment?: string;
  pr?: { title: string; body: string; diff: string; reviewComments: string };
}

/**
 * A value the template did not wrap itself, in an `<untrusted>` block like those the shipped prompts
 * write around the issue: an agent's output and a PR's text are someone else's words, whatever stage
 * wrote them. Empty values say so in forgehand's own words instead.
 */
export function untrustedBlock(source: string, text: string | undefined, none: string): string {
  if (text === undefined || text.trim() === "") return none;
  return `<untrusted source="${source}">\n${untrustedText(text)}\n</untrusted>`;
}

/** How many recent comments `{{issue.comments}}` includes. */
const MAX_COMMENTS = 10;

/** Loads a stage's template: `inline:` text, or a file relative to the config directory. */
export async function loadPromptTemplate(stage: Stage, configDir: string): Promise<string> {
  if (stage.prompt.startsWith("inline:")) return stage.prompt.slice("inline:".length).replace(/^\s*\n?/, "");
  const path = isAbsolute(stage.prompt) ? stage.prompt : resolve(configDir, stage.prompt);
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new Error(
      `[runner] cannot read the prompt of stage "${stage.name}" at \`${path}\`: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Text from the forge, as a reader sees it: hidden parts removed (`sanitiseUntrusted`), and the
 * `<untrusted …>` delimiters the shipped prompts wrap it in defused, so it cannot close its block
 * and speak as the prompt.
 */
export function untrustedText(text: string): string {
  return sanitiseUntrusted(text).replace(/<(\/?)(untrusted)/gi, "&lt;$1$2");
}

/** Said in the prompt (`{{issue.edited}}`) when the issue changed after the run was asked for. */
export const EDITED_NOTE =
  "Note: the issue's title or body was edited after this run was requested. The text below is the version from when it was requested; do not act on later edits.";

/**
 * Replaces `{{issue.title}}`, `{{issue.body}}`, `{{issue.number}}`, `{{issue.labels}}`,
 * `{{issue.comments}}`, `{{issue.edited}}`, `{{repo}}`, `{{stage}}`, `{{branch}}` in one pass, so
 * text that comes from the issue is never itself scanned for placeholders. Unknown names stay as
 * written. Everything from the forge is passed through `untrustedText`; the title is one line.
 */
export function renderPrompt(template: string, values: PromptValues): string {
  const { issue } = values;
  const table: Record<string, string> = {
    "issue.title": untrustedText(issue.title).replace(/\s+/g, " ").trim(),
    "issue.body": untrustedText(issue.body),
    "issue.number": String(issue.number),
    "issue.labels": untrustedText(issue.labels.join(", ")),
    "issue.comments": issue.comments
      .slice(-MAX_COMMENTS)
      .map((c) => `@${untrustedText(c.author)}:\n${untrustedText(c.body)}`)
      .join("\n\n---\n\n"),
    "issue.edited": "editedAfterTrigger" in issue && issue.editedAfterTrigger ? EDITED_NOTE : "",
    repo: values.repo,
    stage: values.stage,
    branch: values.branch,
    ...contextTable(values.context ?? {}),
  };
  return template.replace(TEMPLATE_PLACEHOLDER, (all, name: string) => table[name] ?? all);
}

function contextTable(c: PromptContext): Record<string, string> {
  const table: Record<string, string> = {
    "previous.output": c.previous
      ? untrustedBlock(`output of stage ${c.previous.stage}`, c.previous.output, "(the previous stage left no output)")
      : "(no stage has finished on this issue yet)",
    "trigger.comment": untrustedBlock("trigger comment", c.triggerComment, "(this run was not started by a comment)"),
    "pr.title": untrustedBlock("pull request title", c.pr?.title, "(not a pull request)"),
    "pr.body": untrustedBlock("pull request body", c.pr?.body, c.pr ? "(empty)" : "(not a pull request)"),
    "pr.diff": untrustedBlock("pull request diff", c.pr?.diff, c.pr ? "(empty diff)" : "(not a pull request)"),
    "pr.reviewComments": untrustedBlock(
      "pull request review comments",
      c.pr?.reviewComments,
      c.pr ? "(no review comments)" : "(not a pull request)",
    ),
  };
  for (const [stage, output] of Object.entries(c.stages ?? {}))
    table[`stages.${stage}.output`] = untrustedBlock(
      `output of stage ${stage}`,
      output,
      `(stage ${stage} left no output)`,
    );
  return table;
}
