import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and per source area (package or file), as shares of busy (non-idle) samples. */
export interface ProfileSummary {
  totalMs: number;
  functions: { name: string; where: string; selfPct: number }[];
  areas: { area: string; selfPct: number }[];
  /** forgehand's own functions (apps/, packages/) by inclusive time: what a change there could save. */
  ownInclusive: { name: string; where: string; totalPct: number }[];
}

/** Groups a frame's URL into the area a fix would touch: a workspace package, a dependency, node internals. */
export function areaOf(url: string): string {
  if (!url) return "(native / GC / idle)";
  const ws = /\/(apps|packages)\/([^/]+)\/src\/(.+)$/.exec(url);
  if (ws) return `${ws[1]}/${ws[2]}/src/${ws[3]}`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return `dep:${dep[1]}`;
  if (url.startsWith("node:")) return url;
  return url.replace(/^file:\/\//, "");
}

/** Reads a `node --cpu-prof` file and sums self time by function and by area. */
export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    // Shares are of busy time: idle samples say nothing about what to fix.
    if (byId.get(id)?.callFrame.functionName !== "(idle)") total += dt;
  });
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    const where = url ? `${areaOf(url)}:${lineNumber + 1}` : "";
    const key = `${functionName}@${where}`;
    const entry = fn.get(key) ?? { name: functionName || "(anonymous)", where, us: 0 };
    entry.us += us;
    fn.set(key, entry);
    const area = functionName.startsWith("(") ? functionName : areaOf(url);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const pct = (us: number) => Math.round((us / total) * 1000) / 10;
  // Inclusive time of each node = its self time plus its subtree's; summed per own function (recursion counted once).
  const inclusive = new Map<number, number>();
  const visit = (id: number): number => {
    const cached = inclusive.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id);
    const idle = node?.callFrame.functionName === "(idle)";
    let sum = idle ? 0 : (self.get(id) ?? 0);
    for (const child of node?.children ?? []) sum += visit(child);
    inclusive.set(id, sum);
    return sum;
  };
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const own = new Map<string, { name: string; where: string; us: number }>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    if (!/\/(apps|packages)\/[^/]+\/src\//.test(url)) continue;
    const key = `${functionName}@${url}:${lineNumber}`;
    // Skip frames whose ancestor is the same function (recursion), so time is not counted twice.
    let up = parentOf.get(node.id);
    let recursive = false;
    while (up !== undefined && !recursive) {
      const f = byId.get(up)?.callFrame;
      recursive = f !== undefined && `${f.functionName}@${f.url}:${f.lineNumber}` === key;
      up = parentOf.get(up);
    }
    if (recursive) continue;
    const entry = own.get(key) ?? {
      name: functionName || "(anonymous)",
      where: `${areaOf(url)}:${lineNumber + 1}`,
      us: 0,
    };
    entry.us += visit(node.id);
    own.set(key, entry);
  }
  return {
    totalMs: total / 1000,
    functions: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfPct: pct(f.us) })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, selfPct: pct(us) })),
    ownInclusive: [...own.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, totalPct: pct(f.us) })),
  };
}

// `npx tsx bench/harness/summarize-profile.ts FILE.cpuprofile` prints the summary.
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const file = process.argv[2];
  if (!file) throw new Error("[bench] usage: summarize-profile.ts FILE.cpuprofile");
  const s = summarizeProfile(file);
  console.log(`${Math.round(s.totalMs)} ms busy (idle excluded)`);
  console.log("\nby area:");
  for (const a of s.areas) console.log(`  ${String(a.selfPct).padStart(5)} %  ${a.area}`);
  console.log("\nby function:");
  for (const f of s.functions) console.log(`  ${String(f.selfPct).padStart(5)} %  ${f.name}  ${f.where}`);
  console.log("\nforgehand's own functions, inclusive:");
  for (const f of s.ownInclusive) console.log(`  ${String(f.totalPct).padStart(5)} %  ${f.name}  ${f.where}`);
}
