import { resolve } from "node:path";
import type { Logger } from "@forgehand/core";
import { ensureGuardian } from "./guardian";
import { pidEntryPath, removePidEntry, writePidEntry } from "./pid-registry";
import { readProc } from "./proc";
import { toCgroup2Path } from "./reap-run-cgroup";

/** The pid registry could not be written; the message names the directory and is safe to show. */
export class PidRegistryError extends Error {
  constructor(registryDir: string, options: { cause: unknown }) {
    super(`[supervisor] could not write pid registry in \`${registryDir}\`: ${String(options.cause)}`, options);
    this.name = "PidRegistryError";
  }
}

/** A run's entry in the on-disk pid registry, from just before its spawn until its kill is verified. */
export interface RunRegistration {
  /** Completes the entry with the spawned process; throws a `PidRegistryError` (the pending entry stays). */
  recordSpawn(pid: number, startTime: number | undefined): Promise<void>;
  /** Removes the entry; call only once nothing of the run is left (survivors stay listed for orphan reaping). */
  remove(): Promise<void>;
}

/**
 * Registers a run before anything is spawned: starts the guardian (if this process dies from here on, even by
 * SIGKILL, the guardian kills the run) and writes a pending entry naming the run's cwd (and its cgroup), so
 * dying between the spawn and `recordSpawn` leaves nothing nobody knows of. Throws a `PidRegistryError`.
 *
 * `runCgroup` is the run cgroup's dir (`RunCgroup.path`); it is recorded as a cgroup2 path. After a crash the
 * reapers `cgroup.kill` and remove it, and a live pid counts as the run's only while it is inside it.
 *
 * The recorded uid is that of the process `recordSpawn` names: forgehand spawns it itself (`bwrap`, or the
 * unsandboxed agent) with no uid change, so it is this process's real uid (root, or the runner's user). The
 * agent below the sandbox's init runs as the agent user, but its pid is not the one in the entry: recording
 * that uid would make the check refuse (and leave running) every genuine orphan. What the uid check rules out
 * is a recorded pid now held by another user's process (a recycled pid the start time check missed).
 */
export async function registerRun(
  registryDir: string,
  runId: string,
  cwd: string,
  logger: Logger,
  options: { runCgroup?: string } = {},
): Promise<RunRegistration> {
  ensureGuardian(registryDir, logger);
  const supervisorStartTime = readProc(process.pid)?.startTime;
  const cgroup = options.runCgroup ? toCgroup2Path(resolve(options.runCgroup)) : undefined;
  const base = {
    runId,
    cwd: resolve(cwd),
    supervisorPid: process.pid,
    supervisorStartTime,
    ...(cgroup ? { cgroup } : {}),
  };
  const uid = process.getuid?.();
  const write = async (entry: Parameters<typeof writePidEntry>[1]) => {
    try {
      await writePidEntry(registryDir, entry);
    } catch (error) {
      logger.error("could not write the pid registry entry", { path: pidEntryPath(registryDir, runId), error });
      throw new PidRegistryError(registryDir, { cause: error });
    }
  };
  const now = () => new Date().toISOString();
  await write({ ...base, startedAt: now() });
  return {
    recordSpawn: (pid, startTime) =>
      write({ ...base, pid, pgid: pid, startTime, ...(uid !== undefined ? { uid } : {}), startedAt: now() }),
    async remove() {
      await removePidEntry(registryDir, runId).catch((error: unknown) => {
        logger.warn("could not remove the pid registry entry", { error });
      });
    },
  };
}
