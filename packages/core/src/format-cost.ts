/** `$0.42`, or `~$0.42 (estimate)` while the figure is a parser's live estimate (RunRecord.costEstimated). */
export function formatCost(usd: number, estimated = false): string {
  const text = `$${usd.toFixed(2)}`;
  return estimated ? `~${text} (estimate)` : text;
}
