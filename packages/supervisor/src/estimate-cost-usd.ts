import type { AgentEvent, PriceTable } from "./types";

/** Token counts of one assistant message, as carried by a `usage` event. */
export type Usage = Pick<
  Extract<AgentEvent, { type: "usage" }>,
  "model" | "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens"
>;

/**
 * Anthropic list prices in USD per million tokens (override with `SuperviseOptions.prices`).
 * Cache reads default to 0.1× input and cache writes to 1.25× input when a row omits them.
 */
export const DEFAULT_PRICES: PriceTable = {
  // Opus 4.5 and later; Opus 4 (`claude-opus-4-0`, `claude-opus-4-2025…`) and 4.1 cost three times as much.
  "claude-opus-4": { input: 5, output: 25 },
  "claude-opus-4-0": { input: 15, output: 75 },
  "claude-opus-4-2": { input: 15, output: 75 },
  "claude-opus-4-1": { input: 15, output: 75 },
  "claude-sonnet-4": { input: 3, output: 15 },
  "claude-3-7-sonnet": { input: 3, output: 15 },
  "claude-3-5-sonnet": { input: 3, output: 15 },
  "claude-haiku-4": { input: 1, output: 5 },
  "claude-3-5-haiku": { input: 0.8, output: 4 },
};

/** The price row for a model: longest matching id prefix wins, then a `*` row, else undefined. */
export function priceFor(model: string | undefined, prices: PriceTable): PriceTable[string] | undefined {
  let best: string | undefined;
  if (model) {
    for (const prefix of Object.keys(prices)) {
      if (prefix !== "*" && model.startsWith(prefix) && (best === undefined || prefix.length > best.length)) {
        best = prefix;
      }
    }
  }
  return best !== undefined ? prices[best] : prices["*"];
}

/** Estimated USD cost of one message's token usage; 0 when the model has no price row. */
export function estimateCostUsd(usage: Usage, prices: PriceTable): number {
  const row = priceFor(usage.model, prices);
  if (!row) return 0;
  const cacheRead = row.cacheRead ?? row.input * 0.1;
  const cacheWrite = row.cacheWrite ?? row.input * 1.25;
  const micro =
    usage.inputTokens * row.input +
    usage.outputTokens * row.output +
    usage.cacheReadTokens * cacheRead +
    usage.cacheWriteTokens * cacheWrite;
  return micro / 1_000_000;
}
