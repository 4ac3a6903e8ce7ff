import type { RunRecord } from "@forgehand/core";
// The status comment's format, so `forgehand runs` and the forge show the same elapsed time.
import { formatElapsed } from "@forgehand/forge";

/** One table row per run: id, repo#issue, stage, state, elapsed, turns, cost. */
export function runRow(run: RunRecord, now: number): string[] {
  const start = run.startedAt ?? run.createdAt;
  const elapsed = run.startedAt || run.endedAt ? formatElapsed((run.endedAt ?? now) - start) : "-";
  return [
    run.id,
    `${run.repo}#${run.issue}`,
    run.stage,
    run.state,
    elapsed,
    run.maxTurns ? `${run.turns}/${run.maxTurns}` : String(run.turns),
    run.budgetUsd ? `$${run.costUsd.toFixed(2)}/$${run.budgetUsd.toFixed(2)}` : `$${run.costUsd.toFixed(2)}`,
  ];
}

/** Renders runs as an aligned text table with a header. */
export function formatRunsTable(runs: RunRecord[], now = Date.now()): string {
  const rows = [["ID", "ISSUE", "STAGE", "STATE", "ELAPSED", "TURNS", "COST"], ...runs.map((r) => runRow(r, now))];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
