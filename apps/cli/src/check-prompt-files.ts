import { accessSync, constants, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { ConfigError, type LoadedConfig } from "@forgehand/core";

/**
 * Every stage's prompt file must exist and be readable now, not when the first labelled issue
 * runs the stage: a config error at `start` (and a failed `doctor` line) naming the stage, the
 * field and the path. `inline:` prompts need no file. Resolved as the runner does (render-prompt.ts).
 */
export function checkPromptFiles(loaded: LoadedConfig): void {
  const issues: { path: string; message: string }[] = [];
  loaded.config.stages.forEach((stage, i) => {
    if (stage.prompt.startsWith("inline:")) return;
    const file = isAbsolute(stage.prompt) ? stage.prompt : resolve(loaded.baseDir, stage.prompt);
    try {
      if (!statSync(file).isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
      accessSync(file, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      const why = code === "ENOENT" ? "does not exist" : `is unreadable (${code})`;
      issues.push({ path: `stages[${i}].prompt`, message: `stage "${stage.name}": prompt file ${file} ${why}` });
    }
  });
  if (issues.length)
    throw new ConfigError(
      `[config] ${loaded.path}: ${issues.length} prompt file(s) missing\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`,
      issues,
    );
}
