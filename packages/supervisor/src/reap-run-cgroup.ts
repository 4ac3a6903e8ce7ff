import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isInside } from "./proc";
import { cgroup2Mount, ownCgroup2Path } from "./sandbox/run-cgroup";

/**
 * A crashed runner's run cgroups stay behind (the sandbox's cleanup never ran), possibly with processes in them:
 * `reapOrphans` and the guardian end them with `cgroup.kill` and remove the dir. The path comes from a registry
 * file, so only a cgroup forgehand itself makes is ever touched: a direct child, with a plain name, of
 * forgehand's run-cgroup parent for this process (`<cgroup2 mount><own cgroup>/forgehand`, where
 * `detectCgroupSupport` puts them). Any other path (another service's cgroup, `..`, the root) is refused.
 */

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

const readText = (p: string) => {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return "";
  }
};

/** The directory this process makes run cgroups in, or undefined without cgroup v2. No side effects. */
export function runCgroupParent(): string | undefined {
  const mount = cgroup2Mount();
  const own = ownCgroup2Path(readText("/proc/self/cgroup"));
  return mount && own ? join(mount, own, "forgehand") : undefined;
}

/** A run cgroup's dir as its cgroup2 path (`/forgehand/run-1-ab12cd34`), what /proc/<pid>/cgroup shows. */
export function toCgroup2Path(dir: string): string {
  const mount = cgroup2Mount();
  return mount && isInside(dir, mount) ? dir.slice(mount.length) || "/" : dir;
}

/** The dir of a recorded run cgroup (a cgroup2 path or a dir under the mount), or why it must not be touched. */
export function runCgroupDir(recorded: string, parent = runCgroupParent()): { dir: string } | { refused: string } {
  const mount = cgroup2Mount();
  if (!parent || !mount) return { refused: "this host has no cgroup v2" };
  if (!recorded.startsWith("/") || recorded.split("/").some((p) => p === "." || p === ".."))
    return { refused: `\`${recorded}\` is not a plain cgroup path` };
  const dir = resolve(isInside(recorded, mount) ? recorded : join(mount, recorded));
  if (dirname(dir) !== resolve(parent) || !NAME.test(basename(dir)))
    return { refused: `\`${recorded}\` is not a run cgroup under forgehand's ${parent}` };
  return { dir };
}

export interface ReapedCgroup {
  dir: string;
  /** Pids that were in it when the kill began. */
  killed: number[];
  /** Pids still in it at the end (then the dir stays). */
  remaining: number[];
  removed: boolean;
}

const pidsIn = async (dir: string) =>
  (await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "")).split("\n").filter(Boolean).map(Number);
const populated = async (dir: string) =>
  /populated 1/.test(await readFile(join(dir, "cgroup.events"), "utf8").catch(() => ""));

/**
 * `cgroup.kill` (SIGKILL to everything in it and below, escapees of the pid namespace included) until the
 * kernel says it is empty (`populated 0`), then removes the dir (and any child cgroups, deepest first).
 * A cgroup already gone counts as removed. Returns `{ refused }` for a path that is not a run cgroup.
 */
export async function reapRunCgroup(
  recorded: string,
  options: { timeoutMs?: number; parent?: string } = {},
): Promise<ReapedCgroup | { refused: string }> {
  const found = runCgroupDir(recorded, options.parent ?? runCgroupParent());
  if ("refused" in found) return found;
  const { dir } = found;
  if (!existsSync(dir)) return { dir, killed: [], remaining: [], removed: true };
  const killed = await pidsIn(dir);
  const end = Date.now() + (options.timeoutMs ?? 3000);
  let remaining = killed;
  while (true) {
    await writeFile(join(dir, "cgroup.kill"), "1").catch(() => {});
    remaining = await pidsIn(dir);
    if (remaining.length === 0 && !(await populated(dir))) break;
    if (Date.now() > end) return { dir, killed, remaining, removed: false };
    await sleep(10);
  }
  const removed = await removeCgroupTree(dir, end);
  return { dir, killed, remaining: [], removed };
}

/** rmdir of a cgroup and its children; a dying process may still hold it a moment (EBUSY). */
async function removeCgroupTree(dir: string, end: number): Promise<boolean> {
  const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const c of children) if (c.isDirectory()) await removeCgroupTree(join(dir, c.name), end);
  while (true) {
    try {
      await rmdir(dir);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return true;
      if (code !== "EBUSY" || Date.now() > end) return false;
      await sleep(20);
    }
  }
}
