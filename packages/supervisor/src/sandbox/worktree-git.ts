import { lstatSync, readFileSync, realpathSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { GitExposure } from "./build-bwrap-argv";

/** What a git checkout's metadata is made of, as the runner's git sees it. */
export interface WorktreeGit {
  /** `.git` of the worktree: a file (`gitdir: …`, a linked worktree) or a directory (a plain clone). */
  dotGit: { path: string; kind: "file" | "dir" };
  /** The worktree's private gitdir (`<mirror>/worktrees/<name>`), or `.git` itself for a plain clone. */
  gitDir: string;
  /** The common dir (the mirror) holding config, objects, refs. */
  commonDir: string;
}

/**
 * Reads the worktree's `.git`: for a linked worktree, follows `gitdir:` and the gitdir's `commondir`.
 * Undefined when the directory is no git checkout.
 */
export function readWorktreeGit(worktree: string): WorktreeGit | undefined {
  const dotGitPath = join(worktree, ".git");
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dotGitPath);
  } catch {
    return undefined;
  }
  if (st.isDirectory()) {
    return { dotGit: { path: dotGitPath, kind: "dir" }, gitDir: dotGitPath, commonDir: dotGitPath };
  }
  if (!st.isFile()) throw new Error(`[sandbox] ${dotGitPath} is neither a file nor a directory`);
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGitPath, "utf8"));
  if (!m) throw new Error(`[sandbox] ${dotGitPath} has no \`gitdir:\` line`);
  const gitDir = realpathSync(isAbsolute(m[1]!) ? m[1]! : resolve(worktree, m[1]!));
  let commonDir = gitDir;
  try {
    const c = readFileSync(join(gitDir, "commondir"), "utf8").trim();
    if (c) commonDir = realpathSync(isAbsolute(c) ? c : resolve(gitDir, c));
  } catch {}
  return { dotGit: { path: dotGitPath, kind: "file" }, gitDir, commonDir };
}

/** The mirror's parts that `git status`/`git diff`/`git log` read; all bound read-only. Hooks are never exposed. */
const COMMON_PARTS = ["config", "HEAD", "objects", "refs"];
const OPTIONAL_COMMON_PARTS = ["packed-refs", "info", "shallow", "logs"];

/**
 * The `GitExposure` for a worktree: `read-only` binds its gitdir and only the mirror parts git reads (config,
 * HEAD, objects, refs, packed-refs, info, shallow, logs — never `hooks`, nor other worktrees' gitdirs, nor the
 * mirror dir as a whole); `hidden` masks `.git`. A plain clone's `.git` dir is itself bound read-only.
 */
export function gitExposure(git: WorktreeGit, mode: "read-only" | "hidden"): GitExposure {
  if (mode === "hidden") return { mode: "hidden", kind: git.dotGit.kind };
  // A plain clone: the `.git` dir inside the worktree, which buildBwrapArgv binds read-only over itself.
  if (git.dotGit.kind === "dir") return { mode: "read-only", binds: [] };
  const binds = [git.gitDir];
  const optionalBinds: string[] = [];
  if (git.commonDir !== git.gitDir) {
    binds.push(...COMMON_PARTS.map((p) => join(git.commonDir, p)));
    optionalBinds.push(...OPTIONAL_COMMON_PARTS.map((p) => join(git.commonDir, p)));
  }
  return { mode: "read-only", binds, optionalBinds };
}
