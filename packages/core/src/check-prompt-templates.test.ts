import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadConfigFile } from "./config";

function configWith(stages: object[]): string {
  const dir = mkdtempSync(join(tmpdir(), "fh-tpl-"));
  mkdirSync(join(dir, "prompts"));
  writeFileSync(join(dir, "prompts", "develop.md"), "Plan:\n{{previous.output}}\n{{stages.analyze.output}}\n");
  const path = join(dir, "forgehand.yml");
  writeFileSync(path, stringify({ agents: { a: { command: ["true"] } }, stages }));
  return path;
}

describe("prompt template variables at config load", () => {
  it("refuses an unknown {{…}} name, naming the stage and the variable", () => {
    const path = configWith([
      { name: "analyse", label: "a", agent: "a", prompt: "inline:{{issue.title}} {{trigger.coment}}" },
      { name: "develop", label: "d", agent: "a", prompt: "prompts/develop.md" },
    ]);
    expect(() => loadConfigFile(path, {})).toThrow(
      /stages\[0\]\.prompt: stage "analyse" uses the unknown template variable \{\{trigger\.coment\}\}[\s\S]*stages\[1\]\.prompt: stage "develop" uses the unknown template variable \{\{stages\.analyze\.output\}\}/,
    );
  });

  it("accepts known names and the outputs of configured stages; a missing prompt file is left to the run", () => {
    const path = configWith([
      { name: "analyze", label: "a", agent: "a", prompt: "inline:{{issue.title}} {{trigger.comment}} {{pr.diff}}" },
      { name: "develop", label: "d", agent: "a", prompt: "prompts/develop.md", output: "comment" },
      { name: "review", label: "r", agent: "a", prompt: "prompts/absent.md" },
    ]);
    const { config } = loadConfigFile(path, {});
    expect(config.stages.map((s) => s.output)).toEqual(["summary", "comment", "summary"]);
  });
});
