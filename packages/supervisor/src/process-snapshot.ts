import { isRunning, type ProcInfo, readCwd, scanProcesses } from "./proc";

/** A view of the process table at one moment, shared by every kill that asks within `maxAgeMs`. */
export interface ProcessSnapshot {
  procs: ProcInfo[];
  /** Running (non-zombie) children by parent pid. */
  children: Map<number, ProcInfo[]>;
  /** Working directory of a pid, read lazily and cached for the snapshot's lifetime. */
  cwdOf(pid: number): string | undefined;
  takenAt: number;
}

let cached: ProcessSnapshot | undefined;
let pending: Promise<ProcessSnapshot> | undefined;

/**
 * The process table, re-scanned at most once per `maxAgeMs` and never older than `notBefore`. Requests made
 * while a scan is pending join it: when a runner kills 200 agents at once they share one /proc scan per round
 * instead of each paying for a full scan of every process.
 */
export function processSnapshot(maxAgeMs = 25, notBefore = Number.NEGATIVE_INFINITY): Promise<ProcessSnapshot> {
  if (cached && performance.now() - cached.takenAt <= maxAgeMs && cached.takenAt >= notBefore) {
    return Promise.resolve(cached);
  }
  // A pending scan has not started yet, so it begins after `notBefore` (which is at most now).
  pending ??= new Promise((resolve) => {
    setImmediate(() => {
      pending = undefined;
      cached = scanSnapshot();
      resolve(cached);
    });
  });
  return pending;
}

function scanSnapshot(): ProcessSnapshot {
  // The scan's START time: a process created while scanning may be missing from it.
  const takenAt = performance.now();
  const procs = scanProcesses();
  const children = new Map<number, ProcInfo[]>();
  for (const p of procs) {
    if (!isRunning(p)) continue;
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const cwds = new Map<number, string | undefined>();
  const cwdOf = (pid: number) => {
    if (!cwds.has(pid)) cwds.set(pid, readCwd(pid));
    return cwds.get(pid);
  };
  return { procs, children, cwdOf, takenAt };
}
