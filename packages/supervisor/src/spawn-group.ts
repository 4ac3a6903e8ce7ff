import { type ChildProcess, spawn } from "node:child_process";
import { readProc } from "./proc";

/** How a spawned process ended: its exit, or the error that kept it from starting. */
export interface ExitStatus {
  code: number | null;
  signal: string | null;
  /** Set when the process never ran (ENOENT, a bad cwd); `code` and `signal` are then null. */
  error?: Error;
}

export interface SpawnGroupOptions {
  cwd: string;
  /** The complete environment (nothing is inherited). */
  env: Record<string, string>;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
}

/** A process started as the leader of its own process group. */
export interface SpawnedGroup {
  child: ChildProcess;
  /** Undefined when the spawn failed; `exited` then resolves with the error. */
  pid?: number;
  /** /proc start time of `pid`, so a recycled pid is never mistaken for it. */
  startTime?: number;
  /** Resolves once the process exited and was reaped, or failed to start. Never rejects. */
  exited: Promise<ExitStatus>;
}

/**
 * Spawns argv (never a shell) in its own process group (setsid), so the whole group can be signalled as `-pid`.
 * stdout and stderr are pipes; the caller must read them.
 */
export function spawnGroup(argv: string[], options: SpawnGroupOptions): SpawnedGroup {
  const [file, ...args] = argv;
  const child = spawn(file as string, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    // Emitted instead of `exit` when the spawn fails; a later one (a failed kill) changes nothing.
    child.on("error", (error) => {
      if (child.pid === undefined) resolve({ code: null, signal: null, error });
    });
  });
  if (options.input !== undefined && child.stdin) {
    // EPIPE when the process exits without reading its input: its exit status says what happened.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input);
  }
  const pid = child.pid;
  return { child, pid, startTime: pid === undefined ? undefined : readProc(pid)?.startTime, exited };
}

/** Whether any process is left in the group `pgid` (one kill(2), no /proc scan). Zombies count as members. */
export function groupHasMembers(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    // EPERM: a member exists that is not ours to signal.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
