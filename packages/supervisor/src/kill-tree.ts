import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@forgehand/core";
import { isInside, isRunning, isSameRunning, type ProcInfo, protectedPids, readCommand, readProc } from "./proc";
import { processSnapshot } from "./process-snapshot";
import type { KillReport } from "./types";

/** What to kill: a root process, its process group, and anything whose cwd is inside a directory. */
export interface KillTreeRoot {
  /** The root process; absent when only `cwdInside` is known (a run registered before its spawn). */
  pid?: number;
  /** Process group to signal as a whole (the agent leads its own group, so usually `pid`). */
  pgid?: number;
  /** Kill every process whose working directory is inside this directory (setsid escapees belong to no tree). */
  cwdInside?: string;
  /** /proc start time of `pid`, so a recycled pid is never mistaken for the root. */
  startTime?: number;
}

export interface KillTreeOptions {
  /** SIGTERM → wait at most this long (ms) → SIGKILL. Returns early when everything is gone. */
  graceMs: number;
  /** After SIGKILL, keep re-checking (and re-killing) this long (ms) before naming survivors. @defaultValue 3000 */
  verifyBoundMs?: number;
  /** Interval (ms) of the liveness poll of known targets. @defaultValue 20 */
  pollMs?: number;
  logger?: Logger;
}

/**
 * Kills a process tree and verifies it: SIGTERM to the group and every target, wait up to `graceMs`, SIGKILL,
 * then re-scan until nothing of the run is left or `verifyBoundMs` passes. Targets are collected from /proc
 * BEFORE signalling (descendants reparent to init once their parent dies) and again on every re-check.
 * Zombies count as dead: they have exited, only their parent's wait() is missing.
 */
export async function killTree(root: KillTreeRoot, options: KillTreeOptions): Promise<KillReport> {
  const { graceMs } = options;
  if (!Number.isFinite(graceMs) || graceMs < 0) {
    throw new TypeError(`[supervisor] Expected \`graceMs\` >= 0, got \`${graceMs}\``);
  }
  if (root.pid !== undefined && (!Number.isInteger(root.pid) || root.pid <= 0)) {
    throw new TypeError(`[supervisor] Expected a positive integer \`pid\`, got \`${root.pid}\``);
  }
  // Without a root, the cwd is all that names the run; "/" would name every process on the machine.
  if (root.pid === undefined && (!root.cwdInside || resolveDir(root.cwdInside) === "/")) {
    throw new TypeError(`[supervisor] Expected a \`pid\` or a \`cwdInside\` other than /, got \`${root.cwdInside}\``);
  }
  const verifyBoundMs = options.verifyBoundMs ?? 3000;
  const pollMs = options.pollMs ?? 20;
  const started = performance.now();
  const protect = protectedPids();
  const ownPgid = readProc(process.pid)?.pgid;
  // Signalling our own group would kill us (and the test runner): never do it.
  const pgid = root.pgid !== undefined && root.pgid > 1 && root.pgid !== ownPgid ? root.pgid : undefined;
  // A cwd of "/" would take in every process on the machine: then only the tree and the group are swept.
  const resolvedCwd = root.cwdInside ? resolveDir(root.cwdInside) : undefined;
  const cwdDir = resolvedCwd === "/" ? undefined : resolvedCwd;
  /** pid → start time of every process found to belong to the run. */
  const targets = new Map<number, number>();

  const collect = async () => {
    // A verdict of "nothing left" must rest on a scan taken after our latest liveness check (a target may have
    // forked just before it died); concurrent kills still share scans.
    const snapshot = await processSnapshot(25, lastCheckAt);
    const add = (p: ProcInfo) => {
      if (protect.has(p.pid) || !isRunning(p) || targets.has(p.pid)) return;
      // A shared snapshot may be a few ms old: a process that already exited is no target (nor "killed").
      if (!isSameRunning(p.pid, p.startTime)) return;
      targets.set(p.pid, p.startTime);
    };
    for (const p of snapshot.procs) {
      if (!isRunning(p) || protect.has(p.pid)) continue;
      if (
        root.pid !== undefined &&
        p.pid === root.pid &&
        (root.startTime === undefined || root.startTime === p.startTime)
      )
        add(p);
      else if (pgid !== undefined && p.pgid === pgid) add(p);
      else if (cwdDir !== undefined) {
        const cwd = snapshot.cwdOf(p.pid);
        if (cwd !== undefined && isInside(stripDeleted(cwd), cwdDir)) add(p);
      }
    }
    // Descendants of every target, including those that left the group with setsid.
    const queue = [...(root.pid === undefined ? [] : [root.pid]), ...targets.keys()];
    const seen = new Set<number>();
    while (queue.length > 0) {
      const pid = queue.pop()!;
      if (seen.has(pid)) continue;
      seen.add(pid);
      for (const child of snapshot.children.get(pid) ?? []) {
        add(child);
        queue.push(child.pid);
      }
    }
  };
  let lastCheckAt = Number.NEGATIVE_INFINITY;
  const alive = () => {
    lastCheckAt = performance.now();
    return aliveNow();
  };
  const aliveNow = () => [...targets].filter(([pid, start]) => isSameRunning(pid, start)).map(([pid]) => pid);
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    if (pgid !== undefined) trySignal(-pgid, sig);
    for (const pid of pids) if (isSameRunning(pid, targets.get(pid))) trySignal(pid, sig);
  };
  const pollUntilGone = async (until: number) => {
    // Back off from `pollMs` to 5× it: quick kills return fast, long graces (200 concurrent kills) stay cheap.
    let interval = pollMs;
    while (performance.now() < until) {
      if (alive().length === 0) return;
      await sleep(Math.min(interval, Math.max(1, until - performance.now())));
      interval = Math.min(interval * 2, pollMs * 5);
    }
  };

  // Phase 1: SIGTERM, re-scanning for processes forked meanwhile, until a fresh scan finds nothing or grace ends.
  const graceEnd = started + graceMs;
  const termed = new Set<number>();
  for (;;) {
    await collect();
    const now = alive();
    if (now.length === 0 || performance.now() >= graceEnd) break;
    const fresh = now.filter((pid) => !termed.has(pid));
    if (fresh.length > 0 || termed.size === 0) signal(fresh, "SIGTERM");
    for (const pid of fresh) termed.add(pid);
    await pollUntilGone(graceEnd);
  }

  // Phase 2: SIGKILL whatever is left and verify with fresh scans, within a bound.
  let escalated = false;
  const verifyEnd = performance.now() + verifyBoundMs;
  for (;;) {
    await collect();
    const now = alive();
    if (now.length === 0 || performance.now() >= verifyEnd) break;
    escalated = true;
    signal(now, "SIGKILL");
    await pollUntilGone(Math.min(verifyEnd, performance.now() + 250));
  }

  const survivorPids = aliveNow();
  await waitOwnZombies([...targets.keys()], verifyEnd);
  const survivors = survivorPids.map((pid) => ({ pid, command: readCommand(pid) }));
  const killed = [...targets.keys()].filter((pid) => !survivorPids.includes(pid));
  const report: KillReport = { killed, survivors, escalated, durationMs: Math.round(performance.now() - started) };
  if (survivors.length > 0) {
    options.logger?.error("process tree survived the kill", { rootPid: root.pid, survivors, escalated });
  } else if (killed.length > 0) {
    options.logger?.debug("process tree killed", {
      rootPid: root.pid,
      killed,
      escalated,
      durationMs: report.durationMs,
    });
  }
  return report;
}

/**
 * A zombie whose parent is us is our child that exited but is not reaped yet; Node's child_process reaps it on
 * SIGCHLD. Wait briefly so that callers (and `kill -0` checks) observe it gone.
 */
async function waitOwnZombies(pids: number[], until: number): Promise<void> {
  const ours = () =>
    pids.filter((pid) => {
      const info = readProc(pid);
      return info?.ppid === process.pid && info.state === "Z";
    });
  const bound = Math.max(until, performance.now() + 500);
  while (ours().length > 0 && performance.now() < bound) await sleep(10);
}

function trySignal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone. EPERM: not ours; it will be reported as a survivor if it stays.
  }
}

function resolveDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/** /proc/<pid>/cwd of a deleted directory reads `/path (deleted)`; it still belongs to the worktree. */
function stripDeleted(cwd: string): string {
  return cwd.endsWith(" (deleted)") ? cwd.slice(0, -" (deleted)".length) : cwd;
}
