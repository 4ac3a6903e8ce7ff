import type { AgentEvent, PriceTable } from "./types";

/** Token counts of one assistant message, as carried by a `usage` event. */
export type Usage = Pick<
  Extract<AgentEvent, { type: "usage" }>,
  "model" | "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens"
>;

export { DEFAULT_PRICES } from "./default-prices";

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
