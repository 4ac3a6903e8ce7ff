import { classifyWrite } from "@forgehand/forge";

/** The most timestamps in any window of `windowMs` (a window starts at each timestamp). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** What kind of forge write a recorded request was, for the writes-per-run table. */
export function writeKind(call: { method: string; path: string }): { kind: string; creates: boolean } {
  const { creates } = classifyWrite(call.method, call.path);
  const m = call.method.toUpperCase();
  const p = call.path;
  let kind: string;
  if (m === "POST" && /\/issues\/\d+\/comments$/.test(p)) kind = "comment create";
  else if (m === "PATCH" && /\/issues\/comments\/\d+$/.test(p)) kind = "comment edit";
  else if (m === "POST" && /\/pulls$/.test(p)) kind = "PR create";
  else if (/\/labels(\/|$)/.test(p)) kind = `labels (${m})`;
  else if (/\/reactions$/.test(p)) kind = "reaction";
  else kind = `${m} ${p.replace(/\/\d+(?=\/|$)/g, "/:n").replace(/^\/repos\/[^/]+\/[^/]+/, "")}`;
  return { kind, creates };
}
