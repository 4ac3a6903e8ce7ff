import { estimateCostUsd, type Usage } from "./estimate-cost-usd";
import type { AgentEvent, PriceTable, RunEndReason } from "./types";

export interface MeterLimits {
  maxTurns?: number;
  maxBudgetUsd?: number;
}

/** A limit crossed by an event. */
export interface LimitHit {
  reason: Extract<RunEndReason, "turn_limit" | "budget_limit">;
  detail: string;
}

export interface RunMeter {
  /** Counts one event; returns whether a counter changed and the limit it crossed, if any. */
  apply(event: AgentEvent): { changed: boolean; limit?: LimitHit };
  readonly turns: number;
  /** The agent's own reported total when it gave one, else the running estimate. */
  readonly costUsd: number;
  readonly sessionId: string | undefined;
  readonly result: Extract<AgentEvent, { type: "result" }> | undefined;
  /** The last model API failure the agent reported (for classifying a failed run). */
  readonly apiError: Extract<AgentEvent, { type: "api_error" }> | undefined;
}

/**
 * Incremental turn and cost counters. Claude Code repeats a message (and its usage) once per content block, so
 * turns and usage are keyed by message id: a message counts as one tool turn, and its usage is counted once,
 * keeping the largest value seen for each field (later blocks can carry more output tokens).
 */
export function createRunMeter(limits: MeterLimits, prices: PriceTable): RunMeter {
  const turnIds = new Set<string>();
  const usageById = new Map<string, { usage: Usage; cost: number }>();
  let turns = 0;
  let estimate = 0;
  let reported: number | undefined;
  let sessionId: string | undefined;
  let result: Extract<AgentEvent, { type: "result" }> | undefined;
  let apiError: Extract<AgentEvent, { type: "api_error" }> | undefined;

  const cost = () => reported ?? estimate;
  const checkBudget = (): LimitHit | undefined =>
    limits.maxBudgetUsd !== undefined && cost() > limits.maxBudgetUsd
      ? {
          reason: "budget_limit",
          detail: `budget limit: cost $${cost().toFixed(4)} exceeds maxBudgetUsd $${limits.maxBudgetUsd}`,
        }
      : undefined;

  return {
    apply(event) {
      switch (event.type) {
        case "session":
          if (event.sessionId === sessionId) return { changed: false };
          sessionId = event.sessionId;
          return { changed: true };
        case "assistant": {
          if (!event.usesTool) return { changed: false };
          if (event.messageId !== undefined) {
            if (turnIds.has(event.messageId)) return { changed: false };
            turnIds.add(event.messageId);
          }
          turns++;
          const over = limits.maxTurns !== undefined && turns > limits.maxTurns;
          const limit: LimitHit | undefined = over
            ? { reason: "turn_limit", detail: `turn limit: tool turn ${turns} exceeds maxTurns ${limits.maxTurns}` }
            : undefined;
          return { changed: true, limit };
        }
        case "usage": {
          const before = cost();
          if (event.messageId === undefined) {
            estimate += estimateCostUsd(event, prices);
          } else {
            const seen = usageById.get(event.messageId);
            const usage = seen ? maxUsage(seen.usage, event) : event;
            const next = estimateCostUsd(usage, prices);
            estimate += next - (seen?.cost ?? 0);
            usageById.set(event.messageId, { usage, cost: next });
          }
          return { changed: cost() !== before, limit: checkBudget() };
        }
        case "result":
          result = event;
          if (event.sessionId && !sessionId) sessionId = event.sessionId;
          if (event.totalCostUsd !== undefined) reported = event.totalCostUsd;
          return { changed: true, limit: checkBudget() };
        case "api_error":
          apiError = event;
          return { changed: false };
        default:
          return { changed: false };
      }
    },
    get turns() {
      return turns;
    },
    get costUsd() {
      return cost();
    },
    get sessionId() {
      return sessionId;
    },
    get result() {
      return result;
    },
    get apiError() {
      return apiError;
    },
  };
}

function maxUsage(a: Usage, b: Usage): Usage {
  return {
    model: b.model ?? a.model,
    inputTokens: Math.max(a.inputTokens, b.inputTokens),
    outputTokens: Math.max(a.outputTokens, b.outputTokens),
    cacheReadTokens: Math.max(a.cacheReadTokens, b.cacheReadTokens),
    cacheWriteTokens: Math.max(a.cacheWriteTokens, b.cacheWriteTokens),
  };
}
