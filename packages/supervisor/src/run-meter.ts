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
  /** Whether `costUsd` still includes a parser's live estimate (see the `estimated` usage event). */
  readonly costEstimated: boolean;
  readonly sessionId: string | undefined;
  readonly result: Extract<AgentEvent, { type: "result" }> | undefined;
  /** The last model API failure the agent reported (for classifying a failed run). */
  readonly apiError: Extract<AgentEvent, { type: "api_error" }> | undefined;
}

/**
 * Incremental turn and cost counters. A tool turn is one tool call, counted once per tool-call id. Claude Code
 * repeats a message (and its usage) once per content block, so usage is keyed by message id and counted once,
 * keeping the largest value seen for each field (later blocks can carry more output tokens).
 */
export function createRunMeter(limits: MeterLimits, prices: PriceTable): RunMeter {
  const toolIds = new Set<string>();
  const usageById = new Map<string, { usage: Usage; cost: number; estimated: boolean }>();
  let turns = 0;
  let estimate = 0;
  let reported: number | undefined;
  /** Real (not estimated) usage has been seen: later estimates are stale guesses and ignored. */
  let realSeen = false;
  let sessionId: string | undefined;
  let result: Extract<AgentEvent, { type: "result" }> | undefined;
  let apiError: Extract<AgentEvent, { type: "api_error" }> | undefined;

  const cost = () => reported ?? estimate;
  const isEstimated = () => reported === undefined && [...usageById.values()].some((u) => u.estimated);
  const checkBudget = (): LimitHit | undefined =>
    limits.maxBudgetUsd !== undefined && cost() > limits.maxBudgetUsd
      ? {
          reason: "budget_limit",
          detail: `budget limit: ${isEstimated() ? "estimated cost (live, from the stream's text)" : "cost"} $${cost().toFixed(4)} exceeds maxBudgetUsd $${limits.maxBudgetUsd}`,
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
          // One tool turn per tool call (Claude's `num_turns` counts model round trips; a Codex turn is a whole
          // prompt): the same `maxTurns` then means the same for every CLI.
          let added = 0;
          event.tools.forEach((tool, index) => {
            const key = tool.id ?? (event.messageId !== undefined ? `${event.messageId}#${index}` : undefined);
            if (key !== undefined) {
              if (toolIds.has(key)) return;
              toolIds.add(key);
            }
            added++;
          });
          if (added === 0) return { changed: false };
          turns += added;
          const over = limits.maxTurns !== undefined && turns > limits.maxTurns;
          const limit: LimitHit | undefined = over
            ? { reason: "turn_limit", detail: `turn limit: tool call ${turns} exceeds maxTurns ${limits.maxTurns}` }
            : undefined;
          return { changed: true, limit };
        }
        case "usage": {
          const before = cost();
          const estimated = event.estimated === true;
          if (estimated && realSeen) return { changed: false };
          if (!estimated && !realSeen) {
            // The CLI's own counts arrived: every live guess made before them is replaced, not added to.
            realSeen = true;
            for (const [id, seen] of usageById) {
              if (!seen.estimated) continue;
              estimate -= seen.cost;
              usageById.delete(id);
            }
          }
          if (event.messageId === undefined) {
            estimate += estimateCostUsd(event, prices);
          } else {
            const seen = usageById.get(event.messageId);
            // An estimate is a running total for its id (it may go down when a guess is refined); real usage
            // repeated on several lines keeps the largest value of each field.
            const usage = seen && !estimated ? maxUsage(seen.usage, event) : event;
            const next = estimateCostUsd(usage, prices);
            estimate += next - (seen?.cost ?? 0);
            usageById.set(event.messageId, { usage, cost: next, estimated });
          }
          return { changed: cost() !== before, limit: checkBudget() };
        }
        case "result":
          result = event;
          if (event.sessionId && !sessionId) sessionId = event.sessionId;
          if (event.totalCostUsd !== undefined) reported = event.totalCostUsd;
          else if (event.modelUsage) reported = reportedModelCost(event.modelUsage) ?? reported;
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
    get costEstimated() {
      return isEstimated();
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

/** The sum of the CLI's own per-model USD, when every model has one. */
function reportedModelCost(models: Record<string, { costUsd?: number }>): number | undefined {
  const costs = Object.values(models).map((m) => m.costUsd);
  return costs.length && costs.every((c) => c !== undefined)
    ? costs.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)
    : undefined;
}
