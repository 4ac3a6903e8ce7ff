import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** A live process that belongs to a test directory. */
export interface ScannedProcess {
  pid: number;
  cwd: string;
  cmdline: string;
}

/**
 * Processes whose working directory is inside `dir` or whose command line names it — what "no survivors" means
 * for a run whose worktree and HOME live under `dir`. Zombies are ignored (they hold no resources but a pid).
 */
export function processesUnder(dir: string): ScannedProcess[] {
  const found: ScannedProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (/\) Z /.test(stat)) continue;
      const cwd = safeReadlink(`/proc/${pid}/cwd`);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      if (cwd.startsWith(dir) || cmdline.includes(dir)) found.push({ pid, cwd, cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}
