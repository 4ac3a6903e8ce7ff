import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

interface PidEntryBase {
  runId: string;
  /** The run's working directory: anything whose cwd is inside it belongs to the run. */
  cwd: string;
  /** pid of the supervising process, for the log. */
  supervisorPid: number;
  /** /proc start time of the supervising process: a live supervisor's runs are not orphans. */
  supervisorStartTime?: number;
  startedAt: string;
}

/** A spawned agent as recorded on disk, so a successor can kill it after a crash. */
export interface AgentPidEntry extends PidEntryBase {
  pid: number;
  pgid: number;
  /** /proc start time of `pid`, so a recycled pid is never killed by mistake. */
  startTime?: number;
}

/**
 * Written just BEFORE the spawn (no pid exists yet), so a supervisor killed between spawn and the full entry
 * still leaves a record: the agent is then found only by its cwd. On disk: the same file without `pid`/`pgid`.
 */
export interface PendingPidEntry extends PidEntryBase {
  pid?: undefined;
  pgid?: undefined;
  startTime?: undefined;
}

/** One run in the registry: pending (about to spawn) or its spawned agent. Tell them apart with `isPendingEntry`. */
export type PidEntry = AgentPidEntry | PendingPidEntry;

/** Whether the entry was written before the spawn and names no process, only the run's cwd. */
export function isPendingEntry(entry: PidEntry): entry is PendingPidEntry {
  return entry.pid === undefined;
}

const SAFE_RUN_ID = /^[A-Za-z0-9._:-]{1,200}$/;

/** Path of a run's registry file; the run id becomes a file name, so it must be a plain token. */
export function pidEntryPath(registryDir: string, runId: string): string {
  if (!SAFE_RUN_ID.test(runId) || runId === "." || runId === "..") {
    throw new TypeError(`[supervisor] Expected \`runId\` made of [A-Za-z0-9._:-], got \`${runId}\``);
  }
  return join(registryDir, `${runId}.json`);
}

/** Records a run; written atomically (temp file + rename) so a crash never leaves half a file. */
export async function writePidEntry(registryDir: string, entry: PidEntry): Promise<void> {
  const path = pidEntryPath(registryDir, entry.runId);
  await mkdir(registryDir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {});
    throw error;
  }
}

/** Removes a run's entry once its kill is verified. */
export async function removePidEntry(registryDir: string, runId: string): Promise<void> {
  await rm(pidEntryPath(registryDir, runId), { force: true });
}

/** Every entry in the registry; unreadable files are returned as `bad` so the caller can log and remove them. */
export async function readPidEntries(registryDir: string): Promise<{ entries: PidEntry[]; bad: string[] }> {
  let names: string[];
  try {
    names = await readdir(registryDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { entries: [], bad: [] };
    throw error;
  }
  const entries: PidEntry[] = [];
  const bad: string[] = [];
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    const path = join(registryDir, name);
    try {
      entries.push(parsePidEntry(JSON.parse(await readFile(path, "utf8"))));
    } catch {
      bad.push(path);
    }
  }
  return { entries, bad };
}

/** Checks the fields the reapers rely on: a pending entry has neither `pid` nor `pgid`, a full one has both. */
function parsePidEntry(raw: unknown): PidEntry {
  const entry = raw as Record<string, unknown> | null;
  if (typeof entry !== "object" || entry === null || typeof entry.cwd !== "string") throw new Error("fields");
  if (typeof entry.runId !== "string") throw new Error("fields");
  if (entry.pid === undefined && entry.pgid === undefined) {
    const { startTime: _ignored, ...pending } = entry;
    return pending as unknown as PendingPidEntry;
  }
  if (!Number.isInteger(entry.pid) || (entry.pid as number) <= 1 || !Number.isInteger(entry.pgid)) {
    throw new Error("fields");
  }
  return entry as unknown as AgentPidEntry;
}
