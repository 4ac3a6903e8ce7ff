import type { PriceTable } from "./types";

/**
 * List prices in USD per million tokens of the models the supported CLIs run (Claude Code, Codex CLI, Gemini CLI),
 * keyed by model-id prefix: the longest matching prefix wins, so `gpt-5.1-codex-mini` beats `gpt-5.1` beats
 * `gpt-5`. Config `prices:` rows override these by the same prefixes. Long-context tiers (above 200k input tokens)
 * are not modelled: the estimate is the standard tier, and a CLI's own USD figure replaces it where one exists.
 *
 * `cacheRead` is the cached-input price. OpenAI and Google charge nothing to write their implicit caches, so their
 * rows set `cacheWrite` to the input price (their parsers report no cache-write tokens anyway). Anthropic rows
 * leave both to the defaults of `estimateCostUsd` (reads 0.1×, 5-minute writes 1.25× input).
 */
export const DEFAULT_PRICES: PriceTable = {
  // Anthropic. Opus 4.5 and later; Opus 4 (`claude-opus-4-0`, `claude-opus-4-2025…`) and 4.1 cost three times as much.
  "claude-opus-4": { input: 5, output: 25 },
  // Claude Code 2.1.3xx's default model; the CLI itself prices it at $4 / $20 (its `modelUsage[].costUSD`).
  "claude-opus-5": { input: 4, output: 20 },
  "claude-opus-4-0": { input: 15, output: 75 },
  "claude-opus-4-2": { input: 15, output: 75 },
  "claude-opus-4-1": { input: 15, output: 75 },
  "claude-sonnet-4": { input: 3, output: 15 },
  "claude-3-7-sonnet": { input: 3, output: 15 },
  "claude-3-5-sonnet": { input: 3, output: 15 },
  "claude-haiku-4": { input: 1, output: 5 },
  "claude-3-5-haiku": { input: 0.8, output: 4 },

  // OpenAI: GPT-5 family (the Codex CLI's defaults are gpt-5.x-codex models), o-series, GPT-4.1/4o.
  "gpt-5": freeWrites(1.25, 0.125, 10),
  "gpt-5-mini": freeWrites(0.25, 0.025, 2),
  "gpt-5-nano": freeWrites(0.05, 0.005, 0.4),
  "gpt-5-pro": freeWrites(15, 15, 120),
  "gpt-5-codex": freeWrites(1.25, 0.125, 10),
  "gpt-5.1": freeWrites(1.25, 0.125, 10),
  "gpt-5.1-codex": freeWrites(1.25, 0.125, 10),
  "gpt-5.1-codex-mini": freeWrites(0.25, 0.025, 2),
  "gpt-5.2": freeWrites(1.75, 0.175, 14),
  "gpt-5.2-pro": freeWrites(21, 21, 168),
  "codex-mini": freeWrites(1.5, 0.375, 6),
  o1: freeWrites(15, 7.5, 60),
  "o1-mini": freeWrites(1.1, 0.55, 4.4),
  o3: freeWrites(2, 0.5, 8),
  "o3-mini": freeWrites(1.1, 0.55, 4.4),
  "o3-pro": freeWrites(20, 20, 80),
  "o4-mini": freeWrites(1.1, 0.275, 4.4),
  "gpt-4.1": freeWrites(2, 0.5, 8),
  "gpt-4.1-mini": freeWrites(0.4, 0.1, 1.6),
  "gpt-4.1-nano": freeWrites(0.1, 0.025, 0.4),
  "gpt-4o": freeWrites(2.5, 1.25, 10),
  "gpt-4o-mini": freeWrites(0.15, 0.075, 0.6),

  // Google: Gemini 3 and 2.5 (the Gemini CLI's defaults), standard tier (prompts up to 200k tokens).
  "gemini-3-pro": freeWrites(2, 0.2, 12),
  "gemini-3-flash": freeWrites(0.5, 0.05, 3),
  "gemini-2.5-pro": freeWrites(1.25, 0.125, 10),
  "gemini-2.5-flash": freeWrites(0.3, 0.03, 2.5),
  "gemini-2.5-flash-lite": freeWrites(0.1, 0.01, 0.4),
  "gemini-2.0-flash": freeWrites(0.1, 0.025, 0.4),
  "gemini-2.0-flash-lite": freeWrites(0.075, 0.075, 0.3),
};

/** A row of a vendor whose cache writes are free (OpenAI, Google): cached reads priced, writes at the input price. */
function freeWrites(input: number, cacheRead: number, output: number): PriceTable[string] {
  return { input, output, cacheRead, cacheWrite: input };
}
