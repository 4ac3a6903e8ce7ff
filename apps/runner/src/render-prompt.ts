import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { Stage } from "@forgehand/core";
import type { ForgeIssue } from "@forgehand/forge";

/** Values a prompt template may use; plain text substitution, never evaluated. */
export interface PromptValues {
  issue: ForgeIssue;
  repo: string;
  stage: string;
  branch: string;
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
 * Replaces `{{issue.title}}`, `{{issue.body}}`, `{{issue.number}}`, `{{issue.labels}}`,
 * `{{issue.comments}}`, `{{repo}}`, `{{stage}}`, `{{branch}}` in one pass, so text that
 * comes from the issue is never itself scanned for placeholders. Unknown names stay as written.
 */
export function renderPrompt(template: string, values: PromptValues): string {
  const { issue } = values;
  const table: Record<string, string> = {
    "issue.title": issue.title,
    "issue.body": issue.body,
    "issue.number": String(issue.number),
    "issue.labels": issue.labels.join(", "),
    "issue.comments": issue.comments
      .slice(-MAX_COMMENTS)
      .map((c) => `@${c.author}:\n${c.body}`)
      .join("\n\n---\n\n"),
    repo: values.repo,
    stage: values.stage,
    branch: values.branch,
  };
  return template.replace(/\{\{\s*([a-z.]+)\s*\}\}/gi, (all, name: string) => table[name] ?? all);
}
