import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfigFile } from "@forgehand/core";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const example = join(root, "examples", "forgehand.yml");

describe("examples/forgehand.yml", () => {
  it("loads with the real loader and chains analyse → develop → review", () => {
    const { config, missingEnv } = loadConfigFile(example, {});
    expect(missingEnv).toEqual([]);
    expect(config.stages.map((s) => [s.name, s.label, s.next])).toEqual([
      ["analyse", "agent:analyse", "develop"],
      ["develop", "agent:develop", "review"],
      ["review", "agent:review", undefined],
    ]);
    const develop = config.stages[1]!;
    expect(develop.gate).toEqual(["npm", "test"]);
    expect(develop.openPullRequest).toBe(true);
    for (const stage of config.stages) {
      expect(stage.limits.timeout).toBeGreaterThan(0);
      expect(stage.limits.maxTurns).toBeGreaterThan(0);
      expect(stage.limits.maxBudgetUsd).toBeGreaterThan(0);
    }
  });

  it("runs the real Claude Code CLI in stream-json mode with a session resume", () => {
    const { config } = loadConfigFile(example, { ANTHROPIC_API_KEY: "sk-test" });
    const claude = config.agents.claude!;
    expect(claude.command.slice(0, 7)).toEqual([
      "claude",
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--permission-mode",
      "acceptEdits",
    ]);
    expect(claude.command[7]).toBe("--allowedTools");
    expect(claude.command[8]).toContain("Bash(git diff:*)");
    expect(claude.parser).toBe("claude-stream-json");
    expect(claude.resumeArgs).toEqual(["--resume", "{sessionId}"]);
    expect(claude.env.ANTHROPIC_API_KEY).toBe("sk-test");
    // The Gemini CLI entry as test/e2e/gemini-*.test.ts run it (argv, parser, resume, settings seeded into HOME).
    const gemini = config.agents.gemini!;
    expect(gemini.command).toEqual(["gemini", "-m", "gemini-2.5-pro", "--yolo", "--output-format", "stream-json"]);
    expect(gemini.parser).toBe("gemini-stream-json");
    expect(gemini.resumeArgs).toEqual(["--resume", "{sessionId}"]);
    expect(gemini.env.GEMINI_CLI_TRUST_WORKSPACE).toBe("true");
    expect(gemini.sandbox.home).toEqual(["~/.gemini/settings.json"]);
  });

  it("has a prompt template for each stage using the issue placeholders", () => {
    const { config, baseDir } = loadConfigFile(example, {});
    for (const stage of config.stages) {
      const path = resolve(baseDir, stage.prompt);
      expect(existsSync(path), path).toBe(true);
      const text = readFileSync(path, "utf8");
      for (const placeholder of ["{{issue.title}}", "{{issue.body}}", "{{issue.comments}}", "{{repo}}", "{{branch}}"])
        expect(text, `${stage.prompt} uses ${placeholder}`).toContain(placeholder);
    }
  });
});
