import { readdirSync, readFileSync } from "node:fs";

/** Whether `pid` is a live process (not a zombie). */
export function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function argvOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

const pids = () =>
  readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .map(Number);

/** Live host processes with an argv element containing `marker` (the escapees carry a unique one). */
export function processesWithArg(marker: string): number[] {
  return pids().filter((pid) => argvOf(pid).some((a) => a.includes(marker)) && alive(pid));
}

/** The supervisor guardian of `runnerPid` (it sets its title to `forgehand-guardian <runner pid>`), if alive. */
export function findGuardian(runnerPid: number): number | undefined {
  return pids().find((pid) => argvOf(pid)[0] === `forgehand-guardian ${runnerPid}` && alive(pid));
}
