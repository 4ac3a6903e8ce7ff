import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** One live agent as recorded on disk at spawn, so a successor can kill it after a crash. */
export interface PidEntry {
  runId: string;
  pid: number;
  pgid: number;
  /** The run's working directory: anything whose cwd is inside it belongs to the run. */
  cwd: string;
  /** /proc start time of `pid`, so a recycled pid is never killed by mistake. */
  startTime?: number;
  /** pid of the supervising process, for the log. */
  supervisorPid: number;
  /** /proc start time of the supervising process: a live supervisor's runs are not orphans. */
  supervisorStartTime?: number;
  startedAt: string;
}

const SAFE_RUN_ID = /^[A-Za-z0-9._:-]{1,200}$/;

/** Path of a run's registry file; the run id becomes a file name, so it must be a plain token. */
export function pidEntryPath(registryDir: string, runId: string): string {
  if (!SAFE_RUN_ID.test(runId) || runId === "." || runId === "..") {
    throw new TypeError(`[supervisor] Expected \`runId\` made of [A-Za-z0-9._:-], got \`${runId}\``);
  }
  return join(registryDir, `${runId}.json`);
}

/** Records a live agent; written atomically (temp file + rename) so a crash never leaves half a file. */
export async function writePidEntry(registryDir: string, entry: PidEntry): Promise<void> {
  const path = pidEntryPath(registryDir, entry.runId);
  await mkdir(registryDir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  await rename(tmp, path);
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
      const entry = JSON.parse(await readFile(path, "utf8")) as PidEntry;
      if (!Number.isInteger(entry.pid) || entry.pid <= 1 || typeof entry.cwd !== "string") throw new Error("fields");
      entries.push(entry);
    } catch {
      bad.push(path);
    }
  }
  return { entries, bad };
}
