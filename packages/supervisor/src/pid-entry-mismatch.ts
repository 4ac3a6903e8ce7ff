import { readFileSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import type { AgentPidEntry } from "./pid-registry";
import { isInside, isRunning, readProc } from "./proc";

/**
 * Why a full registry entry does not describe a process forgehand started, or undefined when it does (or its
 * process is gone: then there is no pid to mistake). The entry is only a file; before its pid is signalled,
 * the live process must be the one recorded: same start time (a recycled or planted pid differs), and the
 * recorded uid and cgroup when the entry names them. The agent leads its own group, so `pgid` must be `pid`.
 */
export function pidEntryMismatch(entry: AgentPidEntry): string | undefined {
  if (entry.pgid !== entry.pid) return `pgid ${entry.pgid} is not the agent's own group ${entry.pid}`;
  const info = readProc(entry.pid);
  if (!isRunning(info)) return undefined;
  if (entry.startTime === undefined) return `pid ${entry.pid} is running but the entry records no start time`;
  if (info.startTime !== entry.startTime)
    return `pid ${entry.pid} is another process (start time ${info.startTime}, recorded ${entry.startTime})`;
  if (entry.uid !== undefined) {
    const uid = realUidOf(entry.pid);
    if (uid !== entry.uid) return `pid ${entry.pid} runs as uid ${uid ?? "?"}, recorded ${entry.uid}`;
  }
  if (entry.cgroup !== undefined && !inCgroup(entry.pid, entry.cgroup))
    return `pid ${entry.pid} is not in cgroup ${entry.cgroup}`;
  return undefined;
}

/**
 * The entry's cwd when a cwd sweep may use it: strictly inside `root` (both resolved through symlinks), else
 * undefined. The root itself is refused too: it holds every issue's worktree, other runs' included.
 */
export function sweepableCwd(cwd: string, root: string): string | undefined {
  if (!cwd.startsWith("/")) return undefined;
  const dir = realDir(cwd);
  const base = realDir(root);
  return dir !== base && base !== "/" && isInside(dir, base) ? dir : undefined;
}

function realUidOf(pid: number): number | undefined {
  try {
    const line = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return line ? Number(line[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process's cgroup2 path (the `0::` line) is `cgroup` or below it; `cgroup` may be a mounted dir. */
function inCgroup(pid: number, cgroup: string): boolean {
  let own: string | undefined;
  try {
    own = /^0::(\S+)/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1];
  } catch {
    return false;
  }
  if (!own) return false;
  const mount = cgroup2Mounts().find((m) => isInside(cgroup, m));
  const wanted = mount ? cgroup.slice(mount.length) || "/" : cgroup;
  // The root cgroup holds every process: naming it proves nothing.
  return wanted !== "/" && isInside(own, wanted);
}

function cgroup2Mounts(): string[] {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .filter((l) => l.split(" - ")[1]?.startsWith("cgroup2 "))
      .map((l) => l.split(" ")[4] ?? "")
      .filter((m) => m.startsWith("/"))
      .sort((a, b) => b.length - a.length);
  } catch {
    return [];
  }
}

function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}
