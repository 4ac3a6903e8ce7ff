import { chmod, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

interface PidEntryBase {
  runId: string;
  /** The run's working directory: anything whose cwd is inside it belongs to the run. */
  cwd: string;
  /** pid of the supervising process, for the log. */
  supervisorPid: number;
  /** /proc start time of the supervising process: a live supervisor's runs are not orphans. */
  supervisorStartTime?: number;
  startedAt: string;
  /** Real uid the agent runs as (the sandbox's agent user); when set, only a process with that uid is acted on. */
  uid?: number;
  /** The run's cgroup (a cgroup2 path like `/forgehand/run-1`, or its directory under the cgroup2 mount). */
  cgroup?: string;
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

/**
 * The only directory whose contents a cwd sweep may take in: `<data>/workspaces/worktrees` for the registry
 * `<data>/agents` (the runner's layout). A cwd is only a hint written to disk; outside this root it could name
 * anything (`/tmp`, a home dir) and make a reaper kill processes forgehand never started.
 */
export function defaultSweepRoot(registryDir: string): string {
  return join(dirname(resolve(registryDir)), "workspaces", "worktrees");
}

/** Records a run; written atomically (temp file + rename) so a crash never leaves half a file. */
export async function writePidEntry(registryDir: string, entry: PidEntry): Promise<void> {
  const path = pidEntryPath(registryDir, entry.runId);
  await mkdir(registryDir, { recursive: true, mode: 0o700 });
  // Also an existing dir: nobody else may add, replace or read entries.
  await chmod(registryDir, 0o700);
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

/** A registry file not trusted: not a regular file, not ours, or writable by group/others. */
export interface RejectedPidEntry {
  path: string;
  reason: string;
}

/**
 * Every entry in the registry. Unreadable files are returned as `bad`; files anyone but us could have written
 * (a symlink, another owner, group/other write permission) as `rejected`, unread: their content steers nothing.
 */
export async function readPidEntries(
  registryDir: string,
): Promise<{ entries: PidEntry[]; bad: string[]; rejected: RejectedPidEntry[] }> {
  let names: string[];
  try {
    names = await readdir(registryDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { entries: [], bad: [], rejected: [] };
    throw error;
  }
  const entries: PidEntry[] = [];
  const bad: string[] = [];
  const rejected: RejectedPidEntry[] = [];
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    const path = join(registryDir, name);
    const reason = await untrustedFileReason(path);
    if (reason) {
      rejected.push({ path, reason });
      continue;
    }
    try {
      entries.push(parsePidEntry(JSON.parse(await readFile(path, "utf8")), name.slice(0, -".json".length)));
    } catch {
      bad.push(path);
    }
  }
  return { entries, bad, rejected };
}

/** Why a registry file cannot be trusted, or undefined: it must be a regular file of our uid, not group/other-writable. */
async function untrustedFileReason(path: string): Promise<string | undefined> {
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(path);
  } catch {
    return undefined; // gone meanwhile, or unreadable: reported as `bad` by the read
  }
  if (!stat.isFile()) return "not a regular file";
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return `owned by uid ${stat.uid}, not ${uid}`;
  if ((stat.mode & 0o022) !== 0) return `writable by group/others (mode ${(stat.mode & 0o777).toString(8)})`;
  return undefined;
}

/**
 * Checks the fields the reapers rely on: a pending entry has neither `pid` nor `pgid`, a full one has both; the
 * run id is the file's name (so removing the entry removes this file); optional numbers and strings are typed.
 */
function parsePidEntry(raw: unknown, fileRunId: string): PidEntry {
  const entry = raw as Record<string, unknown> | null;
  if (typeof entry !== "object" || entry === null || typeof entry.cwd !== "string") throw new Error("fields");
  if (entry.runId !== fileRunId || !Number.isInteger(entry.supervisorPid)) throw new Error("fields");
  const optional = (key: string, ok: (v: unknown) => boolean) => entry[key] === undefined || ok(entry[key]);
  if (!optional("uid", Number.isInteger) || !optional("cgroup", (v) => typeof v === "string"))
    throw new Error("fields");
  if (!optional("supervisorStartTime", Number.isInteger)) throw new Error("fields");
  if (entry.pid === undefined && entry.pgid === undefined) {
    const { startTime: _ignored, ...pending } = entry;
    return pending as unknown as PendingPidEntry;
  }
  if (!Number.isInteger(entry.pid) || (entry.pid as number) <= 1 || !Number.isInteger(entry.pgid)) {
    throw new Error("fields");
  }
  if (!optional("startTime", Number.isInteger)) throw new Error("fields");
  return entry as unknown as AgentPidEntry;
}
