import { RunRecord } from "@forgehand/core";

/** Formats a duration in ms as `42s`, `3m05s` or `1h02m`. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

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

/** Keeps records that parse as RunRecord (others are reported, never fatal). */
export function parseRuns(raw: unknown[]): { runs: RunRecord[]; invalid: number } {
  const runs: RunRecord[] = [];
  let invalid = 0;
  for (const item of raw) {
    const parsed = RunRecord.safeParse(item);
    if (parsed.success) runs.push(parsed.data);
    else invalid++;
  }
  return { runs, invalid };
}
