import { scanProcesses } from "../proc";

/**
 * The host pid of the sandbox's init (forgehand's sandbox-init.mjs; with the fast init, which execs the agent, the
 * agent itself) under a spawned bwrap, or undefined while it is not running yet / any more. The chain is `bwrap` (spawned; maybe via the cgroup's `sh -c … exec`, same pid)
 * → bwrap's pid-namespace reaper → the init → the agent.
 *
 * Why it matters: SIGTERM to the outer bwrap kills the whole sandbox at once (its reaper dies with it, with
 * --die-with-parent, and takes the pid namespace down with SIGKILL) — no grace for the agent. A graceful stop
 * signals the init, which forwards the signal to the agent; SIGKILL of bwrap (or cgroup.kill) is the hard stop.
 */
export function findSandboxInit(bwrapPid: number): number | undefined {
  const procs = scanProcesses();
  const childrenOf = (pid: number) => procs.filter((p) => p.ppid === pid).map((p) => p.pid);
  const reaper = childrenOf(bwrapPid)[0];
  if (reaper === undefined) return undefined;
  return childrenOf(reaper)[0];
}

/** Sends `signal` to the sandbox's init (see `findSandboxInit`); false when there is none to signal. */
export function signalSandbox(bwrapPid: number, signal: NodeJS.Signals): boolean {
  const init = findSandboxInit(bwrapPid);
  if (init === undefined) return false;
  try {
    process.kill(init, signal);
    return true;
  } catch {
    return false;
  }
}
