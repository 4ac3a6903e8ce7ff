import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** One process as read from /proc/<pid>/stat. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** Single-letter state; `Z` (zombie) and `X` (dead) count as gone. */
  state: string;
  /** Clock ticks since boot; with the pid it identifies a process across pid reuse. */
  startTime: number;
}

/** Reads /proc/<pid>/stat, or undefined when the process does not exist. */
export function readProc(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')', so split after the LAST ')'.
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  const rest = stat.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return {
    pid,
    state: rest[0] ?? "?",
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    sid: Number(rest[3]),
    startTime: Number(rest[19]),
  };
}

/** True when the process exists and is not a zombie (a zombie has already exited; only its parent's wait is missing). */
export function isRunning(info: ProcInfo | undefined): info is ProcInfo {
  return info !== undefined && info.state !== "Z" && info.state !== "X";
}

/** Whether `pid` is running and, when `startTime` is given, is still the same process (not a recycled pid). */
export function isSameRunning(pid: number, startTime?: number): boolean {
  // kill(pid, 0) is one syscall; only a pid that exists costs a read of its stat (zombie? same process?).
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const info = readProc(pid);
  return isRunning(info) && (startTime === undefined || info.startTime === startTime);
}

/** Every process currently in /proc. Only called when killing or reaping, never per watchdog tick. */
export function scanProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const info = readProc(pid);
    if (info) out.push(info);
  }
  return out;
}

/** The process's working directory, or undefined (gone, or not ours to read). */
export function readCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** The process's command line for reports, e.g. `node fixtures/ignore-term.mjs`. */
export function readCommand(pid: number): string {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const cmd = raw.split("\0").filter(Boolean).join(" ");
    if (cmd) return cmd;
    return `[${readFileSync(`/proc/${pid}/comm`, "utf8").trim()}]`;
  } catch {
    return "?";
  }
}

/** Whether `path` is `dir` or inside it (both absolute, already resolved). */
export function isInside(path: string, dir: string): boolean {
  const base = dir.endsWith("/") ? dir.slice(0, -1) : dir;
  return path === base || path.startsWith(`${base}/`);
}

/** Our own pid and all our ancestors: never targets, whatever their cwd. */
export function protectedPids(): Set<number> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 0; i++) {
    out.add(pid);
    const info = readProc(pid);
    if (!info || info.ppid === pid) break;
    pid = info.ppid;
  }
  out.add(1);
  return out;
}
