import type { z } from "zod";

/** Limits that need a structured stream: a `lines` agent reports no tool calls and no tokens. */
const NEEDS_STREAM = ["maxTurns", "maxBudgetUsd"] as const;

interface StageLike {
  agent: string;
  limits: Partial<Record<(typeof NEEDS_STREAM)[number], number>>;
}

/**
 * Adds a config issue for every `maxTurns` / `maxBudgetUsd` on a stage whose agent uses `parser: lines`:
 * such a limit could never fire, and a limit that silently does nothing is worse than none.
 */
export function checkUnenforceableLimits(
  stages: readonly StageLike[],
  agents: Record<string, { parser: string } | undefined>,
  ctx: z.RefinementCtx,
): void {
  stages.forEach((stage, i) => {
    const agent = agents[stage.agent];
    if (agent?.parser !== "lines") return;
    for (const field of NEEDS_STREAM) {
      if (stage.limits[field] === undefined) continue;
      ctx.addIssue({
        code: "custom",
        path: ["stages", i, "limits", field],
        message: `${field} cannot be enforced for agent "${stage.agent}": its parser is \`lines\` (no tool calls or tokens in its output); use a structured parser or remove ${field}`,
      });
    }
  });
}
