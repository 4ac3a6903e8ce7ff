import { chmod, rm } from "node:fs/promises";
import { type Logger, silentLogger } from "@forgehand/core";
import { type KillTreeRoot, killTree } from "./kill-tree";
import { pidEntryMismatch, sweepableCwd } from "./pid-entry-mismatch";
import { defaultSweepRoot, isPendingEntry, type PidEntry, readPidEntries, removePidEntry } from "./pid-registry";
import { isSameRunning, readCommand, readProc } from "./proc";
import { reapRunCgroup } from "./reap-run-cgroup";
import type { KillReport } from "./types";

export interface ReapOrphansOptions {
  /** SIGTERM → wait this long (ms) → SIGKILL. @defaultValue 1000 */
  graceMs?: number;
  /** Only cwds strictly inside this directory are swept. @defaultValue `defaultSweepRoot(registryDir)` */
  sweepRoot?: string;
  /** Only run cgroups directly under this dir are killed and removed. @defaultValue `runCgroupParent()` */
  cgroupParent?: string;
}

/**
 * Kills whatever a crashed predecessor left behind: every agent listed in the on-disk pid registry whose
 * supervisor is gone, its process group, anything whose cwd is inside its worktree, and its run cgroup (`cgroup.kill`
 * then rmdir, only for a cgroup under forgehand's own parent, see reap-run-cgroup.ts). Call before taking work.
 * Entries are removed once their kill is verified; entries with survivors stay for the next attempt.
 *
 * The registry is a directory on disk, so nothing in it is believed unchecked: files not ours or writable by
 * others, entries whose live pid is not the recorded process (start time, uid, cgroup), and pending entries
 * whose cwd is outside the sweep root are logged and removed with nothing killed.
 */
export async function reapOrphans(
  registryDir: string,
  logger: Logger = silentLogger,
  options: ReapOrphansOptions = {},
): Promise<KillReport[]> {
  const sweepRoot = options.sweepRoot ?? defaultSweepRoot(registryDir);
  await chmod(registryDir, 0o700).catch(() => {});
  const { entries, bad, rejected } = await readPidEntries(registryDir);
  for (const path of bad) logger.warn("unreadable pid registry entry ignored", { path });
  for (const { path, reason } of rejected) {
    logger.warn("untrusted pid registry file removed, nothing killed", { path, reason });
    await rm(path, { force: true });
  }
  const reports: KillReport[] = [];
  for (const entry of entries) {
    const log = logger.child({ runId: entry.runId });
    if (isSameRunning(entry.supervisorPid, entry.supervisorStartTime)) {
      // Its supervisor (maybe another runner on the same data dir) still owns it.
      log.debug("pid registry entry has a live supervisor, not an orphan", { supervisorPid: entry.supervisorPid });
      continue;
    }
    const root = killRootOf(entry, sweepRoot);
    if (typeof root === "string") {
      log.warn("pid registry entry does not match a process forgehand started; removed, nothing killed", {
        pid: entry.pid,
        cwd: entry.cwd,
        reason: root,
      });
      await removePidEntry(registryDir, entry.runId);
      continue;
    }
    const report = await killTree(root, { graceMs: options.graceMs ?? 1000, logger: log });
    if (entry.cgroup !== undefined) await reapCgroupOf(entry.cgroup, report, log, options.cgroupParent);
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

/**
 * After the tree kill: `cgroup.kill` and rmdir of the entry's run cgroup (a sandbox escapee with cwd /tmp is
 * found by nothing else). What was in it joins `report.killed`, what is left its survivors (the entry stays).
 */
async function reapCgroupOf(cgroup: string, report: KillReport, log: Logger, parent?: string): Promise<void> {
  const reaped = await reapRunCgroup(cgroup, parent ? { parent } : {});
  if ("refused" in reaped) {
    log.warn("run cgroup left alone", { cgroup, reason: reaped.refused });
    return;
  }
  for (const pid of reaped.killed) if (!report.killed.includes(pid)) report.killed.push(pid);
  for (const pid of reaped.remaining)
    report.survivors.push({ pid, command: `in run cgroup ${reaped.dir}: ${readCommand(pid)}` });
  if (reaped.removed) log.info("run cgroup removed", { cgroup: reaped.dir, killed: reaped.killed.length });
  else log.warn("run cgroup could not be removed", { cgroup: reaped.dir, remaining: reaped.remaining });
}

/** What to kill for an entry, or why it must not be acted on. */
function killRootOf(entry: PidEntry, sweepRoot: string): KillTreeRoot | string {
  const cwd = sweepableCwd(entry.cwd, sweepRoot);
  if (isPendingEntry(entry)) {
    // Written before the spawn: no pid to signal, the agent (if it was started) is found by its cwd alone.
    return cwd ? { cwdInside: cwd } : `pending entry's cwd is not inside ${sweepRoot}`;
  }
  const mismatch = pidEntryMismatch(entry);
  if (mismatch) return mismatch;
  // The leader is the agent (checked above) or gone; a group number is only reused once the group is empty,
  // so signal it unless another process now holds the leader's pid.
  const leader = readProc(entry.pgid);
  const groupIsOurs = !leader || leader.startTime === entry.startTime;
  return {
    pid: entry.pid,
    pgid: groupIsOurs ? entry.pgid : undefined,
    ...(cwd ? { cwdInside: cwd } : {}),
    startTime: entry.startTime,
  };
}
