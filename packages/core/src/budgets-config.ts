import { z } from "zod";

const Cap = z.number().positive("a cap must be more than $0");

/**
 * `budgets:` — USD caps beyond one run, counted across every runner in Redis from live cost. A day is a UTC day.
 * A run does not start while a cap it falls under is reached; a running one that crosses a cap stops as
 * `budget_limit`.
 */
export const BudgetsConfig = z
  .object({
    /** Total of every run on one issue (all stages, all attempts, all days). */
    perIssueUsd: Cap.optional(),
    /** Total of one repository's runs in one UTC day. */
    perRepoDailyUsd: Cap.optional(),
    /** Total of every run of this installation (every repository) in one UTC day. */
    installationDailyUsd: Cap.optional(),
  })
  .strict()
  .default({});
export type BudgetsConfig = z.infer<typeof BudgetsConfig>;
