import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, parseConfig, parseDuration } from "./index";

const minimal = {
  agents: { claude: { command: ["claude", "-p"], parser: "claude-stream-json", env: { KEY: "${ANTHROPIC_API_KEY}" } } },
  stages: [
    {
      name: "analyse",
      label: "agent:analyse",
      agent: "claude",
      prompt: "p.md",
      limits: { timeout: "30m", stall: "5m" },
      next: "develop",
    },
    {
      name: "develop",
      label: "agent:develop",
      agent: "claude",
      prompt: "d.md",
      gate: ["npm", "test"],
      openPullRequest: true,
    },
  ],
  runner: { killGrace: "5s" },
};

describe("parseDuration", () => {
  it("parses units and compound durations", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration("2d")).toBe(172_800_000);
    expect(parseDuration("1d12h")).toBe(129_600_000);
  });
  it("rejects garbage", () => {
    expect(() => parseDuration("5 minutes")).toThrow(/Expected a duration/);
    expect(() => parseDuration("")).toThrow();
  });
});

describe("config", () => {
  it("interpolates env, converts durations and applies defaults", () => {
    const { config, missingEnv } = parseConfig(minimal, { ANTHROPIC_API_KEY: "k-123" });
    expect(config.agents.claude?.env.KEY).toBe("k-123");
    expect(config.stages[0]?.limits.timeout).toBe(1_800_000);
    expect(config.runner.killGrace).toBe(5000);
    expect(config.runner.concurrency).toBe(4);
    expect(config.commands.allow).toEqual(["write", "maintain", "admin"]);
    expect(missingEnv).toEqual([]);
  });
  it("keeps worktrees 7 days by default; runner.worktreeRetention takes days, and 0 turns the sweep off", () => {
    expect(parseConfig(minimal, {}).config.runner.worktreeRetention).toBe(7 * 86_400_000);
    const { runner: _runner, ...noRunner } = minimal;
    expect(parseConfig(noRunner, {}).config.runner.worktreeRetention).toBe(7 * 86_400_000);
    const days = parseConfig({ ...minimal, runner: { worktreeRetention: "3d" } }, {}).config.runner;
    expect(days.worktreeRetention).toBe(3 * 86_400_000);
    expect(parseConfig({ ...minimal, runner: { worktreeRetention: 0 } }, {}).config.runner.worktreeRetention).toBe(0);
    expect(() => parseConfig({ ...minimal, runner: { worktreeRetention: "a week" } }, {})).toThrow(
      /runner\.worktreeRetention/,
    );
  });
  it("reports unset variables by field path", () => {
    const { missingEnv } = parseConfig(minimal, {});
    expect(missingEnv).toEqual([{ path: "agents.claude.env.KEY", name: "ANTHROPIC_API_KEY" }]);
  });
  it("names every bad field with its path and reason", () => {
    const bad = {
      ...minimal,
      stages: [
        { ...minimal.stages[0], agent: "nobody", limits: { timeout: "forever" } },
        { ...minimal.stages[1], label: "agent:analyse", gate: "npm test" },
      ],
      runner: { concurrency: 0 },
      extra: true,
    };
    try {
      parseConfig(bad, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const paths = (error as ConfigError).issues.map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining(["stages[0].limits.timeout", "stages[1].gate", "runner.concurrency", "(root)"]),
      );
      expect((error as Error).message).toMatch(/stages\[0\]\.limits\.timeout: Expected a duration/);
    }
  });
  it("cross-checks agents, next stages and duplicate labels", () => {
    const bad = {
      ...minimal,
      stages: [
        { ...minimal.stages[0], agent: "nobody", next: "nowhere" },
        { ...minimal.stages[1], label: "agent:analyse" },
      ],
    };
    expect(() => parseConfig(bad, {})).toThrow(/stages\[0\]\.agent: unknown agent "nobody"[\s\S]*stages\[0\]\.next/);
    expect(() => parseConfig(bad, {})).toThrow(/stages\[1\]\.label: label "agent:analyse" is used by two stages/);
  });
  it("loads a YAML file and reports broken YAML clearly", () => {
    const dir = mkdtempSync(join(tmpdir(), "fh-cfg-"));
    const good = join(dir, "good.yml");
    writeFileSync(
      good,
      "agents:\n  a: { command: [echo] }\nstages:\n  - { name: s, label: 'x:s', agent: a, prompt: p.md }\n",
    );
    expect(loadConfigFile(good, {}).config.stages[0]?.name).toBe("s");
    const broken = join(dir, "broken.yml");
    writeFileSync(broken, "agents: [\n");
    expect(() => loadConfigFile(broken, {})).toThrow(/not valid YAML/);
    expect(() => loadConfigFile(join(dir, "missing.yml"), {})).toThrow(/does not exist/);
  });
});
