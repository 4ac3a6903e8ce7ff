import type { RunState, Stage } from "@forgehand/core";
import type { SuperviseOptions } from "@forgehand/supervisor";

/** The supervisor's limits for this attempt: turns and budget less what earlier attempts used. */
export function remainingLimits(
  limits: Stage["limits"],
  spent: { turns: number; costUsd: number },
): SuperviseOptions["limits"] | { exhausted: { state: RunState; reason: string } } {
  const { maxTurns, maxBudgetUsd } = limits;
  if (maxBudgetUsd !== undefined && spent.costUsd >= maxBudgetUsd)
    return {
      exhausted: {
        state: "budget_limit",
        reason: `budget limit: earlier attempts cost $${spent.costUsd.toFixed(4)} of maxBudgetUsd $${maxBudgetUsd}`,
      },
    };
  if (maxTurns !== undefined && spent.turns >= maxTurns)
    return {
      exhausted: {
        state: "turn_limit",
        reason: `turn limit: earlier attempts used ${spent.turns} of maxTurns ${maxTurns}`,
      },
    };
  return {
    timeoutMs: limits.timeout,
    stallMs: limits.stall,
    maxTurns: maxTurns === undefined ? undefined : maxTurns - spent.turns,
    maxBudgetUsd: maxBudgetUsd === undefined ? undefined : maxBudgetUsd - spent.costUsd,
  };
}
