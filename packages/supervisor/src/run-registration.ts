import { resolve } from "node:path";
import type { Logger } from "@forgehand/core";
import { ensureGuardian } from "./guardian";
import { pidEntryPath, removePidEntry, writePidEntry } from "./pid-registry";
import { readProc } from "./proc";

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
 * SIGKILL, the guardian kills the run) and writes a pending entry naming the run's cwd, so dying between the
 * spawn and `recordSpawn` leaves nothing nobody knows of. Throws a `PidRegistryError`.
 */
export async function registerRun(
  registryDir: string,
  runId: string,
  cwd: string,
  logger: Logger,
): Promise<RunRegistration> {
  ensureGuardian(registryDir, logger);
  const supervisorStartTime = readProc(process.pid)?.startTime;
  const base = { runId, cwd: resolve(cwd), supervisorPid: process.pid, supervisorStartTime };
  const write = async (entry: Parameters<typeof writePidEntry>[1]) => {
    try {
      await writePidEntry(registryDir, entry);
    } catch (error) {
      logger.error("could not write the pid registry entry", { path: pidEntryPath(registryDir, runId), error });
      throw new PidRegistryError(registryDir, { cause: error });
    }
  };
  await write({ ...base, startedAt: new Date().toISOString() });
  return {
    recordSpawn: (pid, startTime) => write({ ...base, pid, pgid: pid, startTime, startedAt: new Date().toISOString() }),
    async remove() {
      await removePidEntry(registryDir, runId).catch((error: unknown) => {
        logger.warn("could not remove the pid registry entry", { error });
      });
    },
  };
}
