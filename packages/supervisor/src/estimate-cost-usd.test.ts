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
