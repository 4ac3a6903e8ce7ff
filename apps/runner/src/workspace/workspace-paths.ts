import { join, relative, resolve, sep } from "node:path";
import type { RepoRef } from "@forgehand/core";

/** Where one repository's mirror, its lock and one issue's worktree live under the data dir. */
export interface WorkspacePaths {
  mirror: string;
  lock: string;
  worktree: string;
  /**
   * The worktree's private git dir, `<mirror>/worktrees/<issue>` (git names it after the worktree dir). The
   * runner always uses this path, never the `gitdir:` line of `<worktree>/.git`, which the agent can rewrite.
   */
  gitDir: string;
}

/** Forge, owner and repository names become path segments, so only plain names are accepted. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

function checkSegment(what: string, value: string): string {
  if (!SEGMENT.test(value) || value.includes("..")) {
    throw new Error(`[workspace] Expected \`${what}\` to be a plain name, got \`${value}\``);
  }
  return value;
}

/** `<root>/mirrors/<forge>/<owner>/<name>.git` and `<root>/worktrees/<forge>/<owner>/<name>/<issue>`. */
export function workspacePaths(rootDir: string, repo: RepoRef, issue: number): WorkspacePaths {
  const forge = checkSegment("repo.forge", repo.forge);
  const owner = checkSegment("repo.owner", repo.owner);
  const name = checkSegment("repo.name", repo.name);
  if (!Number.isSafeInteger(issue) || issue <= 0) {
    throw new Error(`[workspace] Expected \`issue\` to be a positive integer, got \`${issue}\``);
  }
  const root = resolve(rootDir);
  const mirror = join(root, "mirrors", forge, owner, `${name}.git`);
  return {
    mirror,
    lock: join(root, "mirrors", forge, owner, `${name}.lock`),
    worktree: join(root, "worktrees", forge, owner, name, String(issue)),
    gitDir: join(mirror, "worktrees", String(issue)),
  };
}

/** Maps a worktree path back to its paths; refuses anything outside `<root>/worktrees` (we `rm -rf` it). */
export function locateWorktree(rootDir: string, worktree: string): WorkspacePaths {
  const base = join(resolve(rootDir), "worktrees");
  const parts = relative(base, resolve(worktree)).split(sep);
  const [forge, owner, name, issue] = parts;
  if (parts.length !== 4 || !forge || !owner || !name || !issue || !/^[1-9][0-9]*$/.test(issue)) {
    throw new Error(`[workspace] Not a forgehand worktree under \`${base}\`: \`${worktree}\``);
  }
  const repo = { forge, owner, name } as RepoRef;
  return workspacePaths(rootDir, repo, Number(issue));
}
