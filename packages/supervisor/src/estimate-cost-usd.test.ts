import { describe, expect, it } from "vitest";
import { DEFAULT_PRICES, estimateCostUsd, priceFor } from "./estimate-cost-usd";

const usage = {
  inputTokens: 1_000_000,
  outputTokens: 1_000_000,
  cacheReadTokens: 1_000_000,
  cacheWriteTokens: 1_000_000,
};

describe("estimateCostUsd", () => {
  it("prices every token kind per million, cache reads 0.1× and writes 1.25× input by default", () => {
    const prices = { m: { input: 2, output: 10 } };
    expect(estimateCostUsd({ ...usage, model: "m-1" }, prices)).toBeCloseTo(2 + 10 + 0.2 + 2.5, 10);
  });

  it("uses explicit cache prices when given", () => {
    const prices = { m: { input: 2, output: 10, cacheRead: 1, cacheWrite: 3 } };
    expect(estimateCostUsd({ ...usage, model: "m" }, prices)).toBe(16);
  });

  it("lets the longest model prefix win, then falls back to `*`, else costs nothing", () => {
    expect(priceFor("claude-opus-4-1-20250805", DEFAULT_PRICES)).toEqual({ input: 15, output: 75 });
    expect(priceFor("claude-opus-4-20250514", DEFAULT_PRICES)).toEqual({ input: 15, output: 75 });
    expect(priceFor("claude-opus-4-5-20251101", DEFAULT_PRICES)).toEqual({ input: 5, output: 25 });
    expect(priceFor("gpt-x", { "*": { input: 1, output: 1 } })).toEqual({ input: 1, output: 1 });
    expect(estimateCostUsd({ ...usage, model: "<synthetic>" }, DEFAULT_PRICES)).toBe(0);
  });
});

describe("DEFAULT_PRICES", () => {
  const million = { inputTokens: 1_000_000, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  it("prices the current models of every vendor whose CLI forgehand drives, by the longest prefix", () => {
    const input = (model: string) => estimateCostUsd({ ...million, model }, DEFAULT_PRICES);
    expect(input("claude-sonnet-4-5-20250929")).toBe(3);
    expect(input("claude-haiku-4-5")).toBe(1);
    expect(input("gpt-5-codex")).toBe(1.25);
    expect(input("gpt-5.1-codex-mini")).toBe(0.25);
    expect(input("gpt-5.2-codex")).toBe(1.75);
    expect(input("o4-mini-2025-04-16")).toBe(1.1);
    expect(input("o3-pro")).toBe(20);
    expect(input("gemini-2.5-pro")).toBe(1.25);
    expect(input("gemini-2.5-flash-lite")).toBe(0.1);
    expect(input("gemini-3-pro-preview")).toBe(2);
  });

  it("charges OpenAI and Google cached input at their cached price and nothing extra for cache writes", () => {
    const cached = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 1_000_000, cacheWriteTokens: 0 };
    expect(estimateCostUsd({ ...cached, model: "gpt-5.1-codex" }, DEFAULT_PRICES)).toBeCloseTo(0.125, 10);
    expect(estimateCostUsd({ ...cached, model: "gemini-2.5-flash" }, DEFAULT_PRICES)).toBeCloseTo(0.03, 10);
    expect(estimateCostUsd({ ...cached, model: "o3" }, DEFAULT_PRICES)).toBeCloseTo(0.5, 10);
    // Anthropic keeps the 0.1× default.
    expect(estimateCostUsd({ ...cached, model: "claude-opus-4-5" }, DEFAULT_PRICES)).toBeCloseTo(0.5, 10);
  });
});
