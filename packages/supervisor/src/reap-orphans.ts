import { realpathSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { type Logger, silentLogger } from "@forgehand/core";
import { type KillTreeRoot, killTree } from "./kill-tree";
import { isPendingEntry, type PidEntry, readPidEntries, removePidEntry } from "./pid-registry";
import { isSameRunning, readProc } from "./proc";
import type { KillReport } from "./types";

export interface ReapOrphansOptions {
  /** SIGTERM → wait this long (ms) → SIGKILL. @defaultValue 1000 */
  graceMs?: number;
}

/**
 * Kills whatever a crashed predecessor left behind: every agent listed in the on-disk pid registry whose
 * supervisor is gone, its process group and anything whose cwd is inside its worktree. Call before taking work.
 * Entries are removed once their kill is verified; entries with survivors stay for the next attempt.
 */
export async function reapOrphans(
  registryDir: string,
  logger: Logger = silentLogger,
  options: ReapOrphansOptions = {},
): Promise<KillReport[]> {
  const { entries, bad } = await readPidEntries(registryDir);
  for (const path of bad) logger.warn("unreadable pid registry entry ignored", { path });
  const reports: KillReport[] = [];
  for (const entry of entries) {
    const log = logger.child({ runId: entry.runId });
    if (isSameRunning(entry.supervisorPid, entry.supervisorStartTime)) {
      // Its supervisor (maybe another runner on the same data dir) still owns it.
      log.debug("pid registry entry has a live supervisor, not an orphan", { supervisorPid: entry.supervisorPid });
      continue;
    }
    const root = killRootOf(entry);
    if (!root) {
      // A pending entry whose cwd names no single worktree: nothing can be attributed to the run.
      log.warn("pending pid registry entry without a usable cwd removed", { cwd: entry.cwd });
      await removePidEntry(registryDir, entry.runId);
      continue;
    }
    const report = await killTree(root, { graceMs: options.graceMs ?? 1000, logger: log });
    reports.push(report);
    if (report.survivors.length > 0) {
      log.error("orphaned agent survived the kill", { pid: entry.pid, survivors: report.survivors });
      continue;
    }
    if (report.killed.length > 0) {
      log.warn("killed orphaned agent processes left by a crashed runner", {
        pid: entry.pid,
        cwd: entry.cwd,
        killed: report.killed,
        escalated: report.escalated,
        durationMs: report.durationMs,
      });
    } else {
      log.info("orphaned agent was already gone", { pid: entry.pid });
    }
    await removePidEntry(registryDir, entry.runId);
  }
  return reports;
}

/** What to kill for an entry; undefined for a pending entry whose cwd is relative, missing or "/". */
function killRootOf(entry: PidEntry): KillTreeRoot | undefined {
  if (isPendingEntry(entry)) {
    // Written before the spawn: no pid to signal, the agent (if it was started) is found by its cwd alone.
    if (!isAbsolute(entry.cwd) || realDir(entry.cwd) === "/") return undefined;
    return { cwdInside: entry.cwd };
  }
  // A group number can be reused once the group is empty: only signal it if its leader is still the agent
  // or no other process now holds that pid.
  const leader = readProc(entry.pgid);
  const groupIsOurs = !leader || entry.startTime === undefined || leader.startTime === entry.startTime;
  return {
    pid: entry.pid,
    pgid: groupIsOurs ? entry.pgid : undefined,
    cwdInside: entry.cwd,
    startTime: entry.startTime,
  };
}

function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}
