import { chmod, lstat, readdir, realpath, rm } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * Per-issue agent HOMEs (see `agentHomeDir` in sandbox-spec.ts): `<homesRoot>/<forge>/<owner>/<name>/<issue>`,
 * kept between runs so `/retry` can resume the agent's session. The worktree sweep removes one with its
 * worktree; a HOME whose worktree is gone is an orphan and goes once it is older than the retention.
 *
 * A HOME is agent-owned: everything inside it, and the HOME dir itself in an unsandboxed run, may be a
 * symlink the agent planted. Nothing here follows one: entries are found with `lstat`/`readdir` file types,
 * the parents must be real directories under the real `homesRoot`, and `rm` removes a link, never its target.
 */

/** One agent HOME found on disk. */
export interface AgentHomeInfo {
  path: string;
  forge: string;
  owner: string;
  name: string;
  issue: number;
  /**
   * Epoch ms of the HOME dir's last change: the earlier of mtime and ctime. The agent owns the dir and can set
   * its mtime into the future (utimes also sets ctime to now, which it cannot fake); an earlier mtime only
   * makes its own HOME go sooner.
   */
  changedMs: number;
}

/** Where the agent HOME of a worktree's issue lives (the names passed the workspace's plain-segment check). */
export function agentHomePath(
  homesRoot: string,
  at: { forge: string; owner: string; name: string; issue: number },
): string {
  return join(resolve(homesRoot), at.forge, at.owner, at.name, String(at.issue));
}

/** Every `<homesRoot>/<forge>/<owner>/<name>/<issue>` entry (a directory, or a link planted there). */
export async function listAgentHomes(homesRoot: string): Promise<AgentHomeInfo[]> {
  const base = resolve(homesRoot);
  const found: AgentHomeInfo[] = [];
  for (const forge of await realSubdirs(base)) {
    for (const owner of await realSubdirs(join(base, forge))) {
      for (const name of await realSubdirs(join(base, forge, owner))) {
        const dir = join(base, forge, owner, name);
        const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
        for (const e of entries) {
          if (!/^[1-9][0-9]{0,15}$/.test(e.name)) continue;
          const path = join(dir, e.name);
          const changedMs = await agentHomeChangedMs(path);
          if (changedMs !== undefined) found.push({ path, forge, owner, name, issue: Number(e.name), changedMs });
        }
      }
    }
  }
  return found.sort((a, b) => a.path.localeCompare(b.path, "en", { numeric: true }));
}

/** `AgentHomeInfo.changedMs` of the entry at `path` (lstat: a link is not followed); undefined when gone. */
export async function agentHomeChangedMs(path: string): Promise<number | undefined> {
  const st = await lstat(path).catch(() => undefined);
  return st ? Math.min(st.mtimeMs, st.ctimeMs) : undefined;
}

/**
 * Removes one agent HOME without following any symlink: the path must be exactly four levels below
 * `homesRoot` with real directories (no links) on the way; a HOME that is itself a link loses the link only.
 * Resolves false when there was nothing to remove. Throws when the path is not an agent HOME.
 */
export async function removeAgentHome(homesRoot: string, path: string): Promise<boolean> {
  const root = resolve(homesRoot);
  const target = resolve(path);
  const parts = relative(root, target).split(sep);
  if (parts.length !== 4 || parts.some((p) => !p || p === "." || p === "..") || !/^[1-9][0-9]*$/.test(parts[3]!)) {
    throw new Error(`[workspace] Not an agent HOME under \`${root}\`: \`${path}\``);
  }
  const realRoot = await realpath(root).catch(() => undefined);
  if (!realRoot) return false;
  // A parent replaced by a link (an unsandboxed agent runs as the runner's uid) would move the rm elsewhere.
  const parent = dirname(target);
  if ((await realpath(parent).catch(() => undefined)) !== join(realRoot, ...parts.slice(0, 3))) {
    const exists = await lstat(parent).then(
      () => true,
      () => false,
    );
    if (!exists) return false;
    throw new Error(`[workspace] Refusing to remove \`${target}\`: a parent directory is a symlink`);
  }
  const st = await lstat(target).catch(() => undefined);
  if (!st) return false;
  // Not a directory (a link, a file): rm removes the entry itself. A directory: rm never descends into links.
  const remove = () => rm(target, { recursive: st.isDirectory(), force: true, maxRetries: 2 });
  try {
    await remove();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EACCES" || !st.isDirectory()) throw error;
    // A runner that is not root owns the agent's files (user-namespace mapping), and the agent may have made
    // its dirs unreadable (chmod 000): give them back to ourselves, links untouched, and try once more.
    await makeDirsWritable(target);
    await remove();
  }
  return true;
}

/** chmod 0700 on `dir` and every real directory below it (never through a link). */
async function makeDirsWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => {});
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await makeDirsWritable(join(dir, e.name));
}

/** Subdirectories of `dir` that are real directories (a symlinked forge/owner/repo dir is not walked). */
async function realSubdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}
