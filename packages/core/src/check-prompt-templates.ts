import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "./errors";
import { unknownTemplateVariables } from "./template-variables";

/** What the check needs of a stage. */
interface PromptStage {
  name: string;
  prompt: string;
}

/** A stage's template text: `inline:` text, or the file (relative to `baseDir`); undefined when the file is absent. */
export function promptTemplateText(stage: PromptStage, baseDir: string): string | undefined {
  if (stage.prompt.startsWith("inline:")) return stage.prompt.slice("inline:".length);
  const path = isAbsolute(stage.prompt) ? stage.prompt : resolve(baseDir, stage.prompt);
  // A missing file is the runner's clear error when the stage runs (the file may be deployed later).
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/**
 * Throws a ConfigError naming every stage and `{{…}}` name that no variable fills: an unknown name
 * would otherwise reach the agent as literal braces (a typo such as `{{previous.ouput}}` silently
 * dropping the analysis from develop's prompt).
 */
export function checkPromptTemplates(stages: readonly PromptStage[], baseDir: string, source = "forgehand.yml"): void {
  const names = stages.map((s) => s.name);
  const issues: { path: string; message: string }[] = [];
  stages.forEach((stage, i) => {
    const text = promptTemplateText(stage, baseDir);
    if (text === undefined) return;
    for (const name of unknownTemplateVariables(text, names))
      issues.push({
        path: `stages[${i}].prompt`,
        message: `stage "${stage.name}" uses the unknown template variable {{${name}}}`,
      });
  });
  if (issues.length)
    throw new ConfigError(
      `[config] ${source} is invalid:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n")}`,
      issues,
    );
}
