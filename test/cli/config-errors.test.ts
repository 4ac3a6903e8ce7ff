import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cleanEnv, runForgehand, tempDir } from "./run-forgehand";

const BROKEN = `
agents:
  claude:
    command: []
    parser: xml
stages:
  - name: develop
    agent: claude
    prompt: prompts/develop.md
  - name: review
    label: "agent:review"
    agent: codex
    prompt: prompts/review.md
    next: deploy
runner:
  concurrency: -1
  killGrace: soon
`;

describe("a broken forgehand.yml", { timeout: 90_000 }, () => {
  it("stops forgehand start before anything runs, naming every bad field, exit 1", async () => {
    const dir = tempDir("badcfg");
    writeFileSync(join(dir, "forgehand.yml"), BROKEN);
    const { code, stderr } = await runForgehand(["start"], { cwd: dir, env: cleanEnv({ FORGEHAND_DATA_DIR: dir }) });
    expect(code).toBe(1);
    for (const field of [
      "agents.claude.command",
      "agents.claude.parser",
      "stages[0].label",
      "runner.concurrency",
      "runner.killGrace",
    ])
      expect(stderr).toContain(`  - ${field}:`);
    expect(stderr).toContain(join(dir, "forgehand.yml"));
    // Nothing was started: no embedded Redis data dir was created.
    expect(stderr).not.toContain("embedded redis started");
  });

  it("reports cross-field problems (unknown agent, unknown next stage) with their paths", async () => {
    const dir = tempDir("badref");
    writeFileSync(
      join(dir, "cfg.yml"),
      `agents: { claude: { command: [claude] } }
stages:
  - { name: review, label: "agent:review", agent: codex, prompt: p.md, next: deploy }
`,
    );
    const { code, stderr } = await runForgehand(["start", "--config", "cfg.yml"], { cwd: dir });
    expect(code).toBe(1);
    expect(stderr).toMatch(/stages\[0\]\.agent: unknown agent "codex"/);
    expect(stderr).toMatch(/stages\[0\]\.next: unknown stage "deploy"/);
  });

  it("refuses maxTurns / maxBudgetUsd on a `lines` agent, naming the field (they could never fire)", async () => {
    const dir = tempDir("badlines");
    writeFileSync(
      join(dir, "cfg.yml"),
      `agents: { aider: { command: [aider], parser: lines } }
stages:
  - { name: develop, label: "agent:develop", agent: aider, prompt: p.md, limits: { timeout: 5m, maxTurns: 20 } }
`,
    );
    const { code, stderr } = await runForgehand(["start", "--config", "cfg.yml"], { cwd: dir });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /stages\[0\]\.limits\.maxTurns: maxTurns cannot be enforced for agent "aider": its parser is `lines`/,
    );
    expect(stderr).not.toContain("limits.timeout");
  });

  it("names a --config file that does not exist and a file that is not YAML", async () => {
    const dir = tempDir("nocfg");
    const missing = await runForgehand(["start", "--config", "nope.yml"], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`${join(dir, "nope.yml")} does not exist`);
    writeFileSync(join(dir, "forgehand.yml"), "agents: [unclosed\n");
    const notYaml = await runForgehand(["start"], { cwd: dir });
    expect(notYaml.code).toBe(1);
    expect(notYaml.stderr).toContain("is not valid YAML");
  });

  it("FORGEHAND_CONFIG is used when --config is absent", async () => {
    const dir = tempDir("envcfg");
    writeFileSync(join(dir, "other.yml"), "agents: {}\nstages: []\n");
    const { code, stderr } = await runForgehand(["start"], {
      cwd: dir,
      env: cleanEnv({ FORGEHAND_CONFIG: join(dir, "other.yml") }),
    });
    expect(code).toBe(1);
    expect(stderr).toContain(join(dir, "other.yml"));
    expect(stderr).toContain("  - stages: define at least one stage");
  });
});
