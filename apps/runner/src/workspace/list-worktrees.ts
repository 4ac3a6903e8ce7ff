import { lstat, readdir, stat, writeFile } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { locateWorktree } from "./workspace-paths";

/**
 * File in a worktree's private git dir (`<mirror>/worktrees/<id>/`) whose mtime says when `prepare` last
 * used the worktree. It lives outside the working tree, so the agent never sees it.
 */
export const LAST_USED_FILE = "forgehand-used";

/** One issue worktree found on disk by `listWorktrees`. */
export interface WorktreeInfo {
  worktree: string;
  forge: string;
  owner: string;
  name: string;
  issue: number;
  /** Epoch ms of the last `prepare` (older worktrees without the marker: their git dir's HEAD, else the dir). */
  lastUsedMs: number;
  /** Half-made or its git metadata is gone: no `.git` link, or the private git dir it names is missing. */
  broken: boolean;
}

/** Records "used now" for the worktree whose private git dir is `gitDir`. */
export async function markUsed(gitDir: string): Promise<void> {
  await writeFile(join(gitDir, LAST_USED_FILE), `${new Date().toISOString()}\n`);
}

/** Every `<root>/worktrees/<forge>/<owner>/<name>/<issue>` dir; other entries are ignored. */
export async function listWorktrees(rootDir: string): Promise<WorktreeInfo[]> {
  const base = join(resolve(rootDir), "worktrees");
  const found: WorktreeInfo[] = [];
  for (const forge of await subdirs(base)) {
    for (const owner of await subdirs(join(base, forge))) {
      for (const name of await subdirs(join(base, forge, owner))) {
        for (const issue of await subdirs(join(base, forge, owner, name))) {
          const info = await inspectWorktree(rootDir, join(base, forge, owner, name, issue));
          if (info) found.push(info);
        }
      }
    }
  }
  return found;
}

/** Age and health of one worktree dir; undefined when it is gone or is not a worktree path. */
export async function inspectWorktree(rootDir: string, worktree: string): Promise<WorktreeInfo | undefined> {
  let paths: ReturnType<typeof locateWorktree>;
  try {
    paths = locateWorktree(rootDir, worktree);
  } catch {
    return undefined;
  }
  const wt = paths.worktree;
  const dir = await lstat(wt).catch(() => undefined);
  if (!dir?.isDirectory()) return undefined;
  const [forge, owner, name, issue] = wt.split(sep).slice(-4) as [string, string, string, string];
  // The known git dir, never the one `<wt>/.git` names: the agent can point that anywhere.
  const link = await lstat(join(wt, ".git")).catch(() => undefined);
  const gitDir = link?.isFile() ? paths.gitDir : undefined;
  const head = gitDir ? await stat(join(gitDir, "HEAD")).catch(() => undefined) : undefined;
  const marker = gitDir ? await stat(join(gitDir, LAST_USED_FILE)).catch(() => undefined) : undefined;
  const lastUsedMs = (marker ?? head ?? dir).mtimeMs;
  return { worktree: wt, forge, owner, name, issue: Number(issue), lastUsedMs, broken: !head };
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  // Sorted (issue numbers numerically) so sweeps and their logs go in a stable order.
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}
