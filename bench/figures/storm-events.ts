import { readFileSync } from "node:fs";

/** One agent process of the crash storm, from the storm agent's log (bench/fixtures/storm-agent.mjs). */
export interface StormAgent {
  runId: string;
  issue: string;
  /** The runner process label (`r<slot>g<generation>`) that started it. */
  runner: string;
  pid: number;
  startAt: number;
  /** When it logged its end (it finished its work). */
  endAt?: number;
  /** When the bench saw its pid gone without an end line (killed with its runner). */
  goneAt?: number;
}

/** Reads the storm log incrementally: `poll()` adds the agents and end lines written since the last call. */
export class StormLog {
  readonly agents = new Map<number, StormAgent>();
  private offset = 0;
  private partial = "";

  constructor(private readonly file: string) {}

  poll(): void {
    let buf: Buffer;
    try {
      buf = readFileSync(this.file);
    } catch {
      return;
    }
    if (buf.length <= this.offset) return;
    const text = this.partial + buf.subarray(this.offset).toString("utf8");
    this.offset = buf.length;
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) {
      const [kind, runId, issue, runner, pid, at] = line.split(" ");
      if (!runId || !issue || !runner || !pid || !at) continue;
      if (kind === "start")
        this.agents.set(Number(pid), { runId, issue, runner, pid: Number(pid), startAt: Number(at) });
      else if (kind === "end") {
        const agent = this.agents.get(Number(pid));
        if (agent) agent.endAt = Number(at);
      }
    }
  }

  /** Agents with neither an end line nor a recorded disappearance. */
  live(): StormAgent[] {
    return [...this.agents.values()].filter((a) => a.endAt === undefined && a.goneAt === undefined);
  }
}

/** Whether `pid` is a running process (a zombie, exited but not yet reaped, counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 3, after the parenthesised command (which may itself hold spaces or parentheses).
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Issues on which two agents were alive at the same time, and how many such pairs there were. */
export function overlaps(agents: Iterable<StormAgent>, now: number): { issues: number; pairs: number } {
  const byIssue = new Map<string, StormAgent[]>();
  for (const a of agents) byIssue.set(a.issue, [...(byIssue.get(a.issue) ?? []), a]);
  let issues = 0;
  let pairs = 0;
  for (const list of byIssue.values()) {
    const sorted = [...list].sort((a, b) => a.startAt - b.startAt);
    let found = 0;
    for (let i = 0; i < sorted.length; i++)
      for (let j = i + 1; j < sorted.length; j++) {
        const a = sorted[i]!;
        if (sorted[j]!.startAt < (a.endAt ?? a.goneAt ?? now)) found++;
      }
    if (found > 0) issues++;
    pairs += found;
  }
  return { issues, pairs };
}

/** Run ids whose agent finished (an end line) and was started again afterwards. */
export function finishedAndRerun(agents: Iterable<StormAgent>): string[] {
  const byRun = new Map<string, StormAgent[]>();
  for (const a of agents) byRun.set(a.runId, [...(byRun.get(a.runId) ?? []), a]);
  const out: string[] = [];
  for (const [runId, list] of byRun) {
    const firstEnd = Math.min(...list.map((a) => a.endAt ?? Number.POSITIVE_INFINITY));
    if (list.some((a) => a.startAt > firstEnd)) out.push(runId);
  }
  return out;
}
