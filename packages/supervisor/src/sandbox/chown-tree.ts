import { lchown, lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

/**
 * `chown -R` that never follows a symlink (lchown on the link itself) and never leaves the file system of `dir`
 * (a mount point inside is left alone). Returns how many entries were changed. Used to hand the worktree to the
 * agent uid for a run and back to the runner after (the agent's processes are dead by then, so nothing races).
 * Paths in `skip` (the worktree's `.git`) are left as they are, and not descended into.
 */
export async function chownTree(dir: string, uid: number, gid: number, skip: readonly string[] = []): Promise<number> {
  const top = await lstat(dir);
  const skipped = new Set(skip);
  let changed = 0;
  const visit = async (path: string, dev: number): Promise<void> => {
    if (skipped.has(path)) return;
    const st = await lstat(path).catch(() => undefined);
    if (!st || st.dev !== dev) return;
    if (st.uid !== uid || st.gid !== gid) {
      await lchown(path, uid, gid).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
      changed++;
    }
    if (!st.isDirectory()) return;
    const names = await readdir(path).catch(() => [] as string[]);
    // Bounded fan-out: a worktree with node_modules has 100k entries.
    for (let i = 0; i < names.length; i += 64) {
      await Promise.all(names.slice(i, i + 64).map((n) => visit(join(path, n), dev)));
    }
  };
  await visit(dir, top.dev);
  return changed;
}
