import type { DailySpend } from "@forgehand/queue";

/**
 * The spend section of `forgehand runs`: USD per repository and UTC day (newest day first, biggest first), then
 * each day's total over all repositories. Empty when nothing was spent in those days.
 */
export function formatSpendTable(spend: { repos: DailySpend[]; totals: { day: string; usd: number }[] }): string {
  if (spend.repos.length === 0) return "";
  const rows: string[][] = [["DAY (UTC)", "REPOSITORY", "SPENT"]];
  const days = [...new Set(spend.repos.map((r) => r.day))];
  for (const day of days) {
    for (const r of spend.repos.filter((x) => x.day === day)) rows.push([day, r.repo, `$${r.usd.toFixed(2)}`]);
    const total = spend.totals.find((t) => t.day === day);
    if (total) rows.push([day, "(all repositories)", `$${total.usd.toFixed(2)}`]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "))
    .join("\n");
}
