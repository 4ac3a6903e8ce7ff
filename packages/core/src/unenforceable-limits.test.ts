import { describe, expect, it } from "vitest";
import { parseConfig } from "./index";

const config = (parser: string, limits: Record<string, unknown>) => ({
  agents: { tool: { command: ["tool"], parser } },
  stages: [{ name: "develop", label: "agent:develop", agent: "tool", prompt: "p.md", limits }],
});

describe("limits a `lines` agent cannot enforce", () => {
  it("rejects maxTurns and maxBudgetUsd on a stage of a `lines` agent, naming each field", () => {
    let message = "";
    try {
      parseConfig(config("lines", { maxTurns: 5, maxBudgetUsd: 1, timeout: "5m" }), {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(
      /stages\[0\]\.limits\.maxTurns: maxTurns cannot be enforced for agent "tool": its parser is `lines`/,
    );
    expect(message).toMatch(/stages\[0\]\.limits\.maxBudgetUsd: maxBudgetUsd cannot be enforced/);
  });

  it("accepts time limits on a `lines` agent (the default parser) and every limit on a structured one", () => {
    expect(() => parseConfig(config("lines", { timeout: "5m", stall: "1m" }), {})).not.toThrow();
    const { agents, stages } = config("lines", { timeout: "5m" });
    expect(() => parseConfig({ agents: { tool: { command: ["tool"] } }, stages }, {})).not.toThrow();
    expect(agents).toBeDefined();
    expect(() => parseConfig(config("claude-stream-json", { maxTurns: 5, maxBudgetUsd: 1 }), {})).not.toThrow();
  });
});

describe("prices: and budgets:", () => {
  const base = config("claude-stream-json", {});
  it("takes cached-input prices as cacheRead or its alias cachedInput, not both", () => {
    const { config: cfg } = parseConfig(
      { ...base, prices: { "gpt-5.1-codex": { input: 1, output: 8, cachedInput: 0.1 }, "*": { input: 2, output: 2 } } },
      {},
    );
    expect(cfg.prices["gpt-5.1-codex"]).toEqual({ input: 1, output: 8, cacheRead: 0.1 });
    expect(cfg.prices["*"]).toEqual({ input: 2, output: 2 });
    expect(() =>
      parseConfig({ ...base, prices: { m: { input: 1, output: 1, cacheRead: 1, cachedInput: 1 } } }, {}),
    ).toThrow(/prices\.m: give cacheRead or its alias cachedInput, not both/);
    expect(() => parseConfig({ ...base, prices: { m: { input: 1, output: 1, cached: 1 } } }, {})).toThrow(/prices\.m/);
  });

  it("parses budgets caps, defaults to none and names a bad cap", () => {
    expect(parseConfig(base, {}).config.budgets).toEqual({});
    const { config: cfg } = parseConfig(
      { ...base, budgets: { perIssueUsd: 5, perRepoDailyUsd: 20, installationDailyUsd: 100 } },
      {},
    );
    expect(cfg.budgets).toEqual({ perIssueUsd: 5, perRepoDailyUsd: 20, installationDailyUsd: 100 });
    expect(() => parseConfig({ ...base, budgets: { perRepoDailyUsd: 0 } }, {})).toThrow(
      /budgets\.perRepoDailyUsd: a cap must be more than \$0/,
    );
    expect(() => parseConfig({ ...base, budgets: { perDayUsd: 1 } }, {})).toThrow(/budgets/);
  });
});
