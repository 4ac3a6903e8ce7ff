import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type Logger, silentLogger } from "@forgehand/core";
import { ensureAskpass } from "./askpass";
import { validateBranchPrefix } from "./branch-name";
import { ensureGitHome } from "./git-home";
import { guardMirrorConfig } from "./mirror-config";
import { type GitRepo, type RunGitOptions, runGit } from "./run-git";
import type { WorkspacesOptions } from "./types";

/** What the mirror, worktree, commit-push and sweep parts share: validated options, the logger and git. */
export interface WorkspaceContext {
  /** Absolute data dir. */
  rootDir: string;
  branchPrefix: string;
  author: { name: string; email: string };
  /** Limit for fetch, ls-remote and push. */
  networkTimeoutMs: number;
  /** Absolute dir of the per-issue agent HOMEs the sweep removes (see `WorkspacesOptions.agentHomesDir`). */
  agentHomesDir?: string;
  log: Logger;
  /**
   * Runs git with the askpass script, the private HOME and no credentials unless `extra` has some. With
   * `extra.repo` (every call but `init`) the mirror's config is checked first (see mirror-config.ts).
   */
  git(
    args: string[],
    cwd: string,
    extra?: Partial<RunGitOptions>,
  ): Promise<{ stdout: string; exitCode: number; truncated?: boolean }>;
  /** The literal-secret check run on what a push would publish (see scan-push.ts); unset: no check. */
  containsSecret?: (text: string) => boolean;
}

/** Validates the options and builds the shared context; all state lives on disk apart from the askpass path. */
export function createWorkspaceContext(opts: WorkspacesOptions): WorkspaceContext {
  validateBranchPrefix(opts.branchPrefix);
  if (!opts.author.name.trim() || !opts.author.email.trim() || /[<>\n]/.test(opts.author.name + opts.author.email)) {
    throw new Error(`[workspace] Expected \`author\` with a name and an email, got \`${JSON.stringify(opts.author)}\``);
  }
  const rootDir = resolve(opts.rootDir);
  const log = opts.logger ?? silentLogger;
  let home: Promise<string> | undefined;

  async function git(args: string[], cwd: string, extra: Partial<RunGitOptions> = {}) {
    home ??= ensureGitHome(rootDir).catch((error: unknown) => {
      home = undefined;
      throw error;
    });
    // Checked on every call (one small read each): an unsandboxed agent can write the data dir.
    const [askpass, gitHome] = await Promise.all([
      ensureAskpass(rootDir),
      home,
      extra.repo ? guardMirrorConfig(extra.repo.commonDir, log) : undefined,
    ]);
    return runGit(args, { cwd, askpass, home: gitHome, credentials: null, ...extra });
  }

  return {
    rootDir,
    branchPrefix: opts.branchPrefix,
    author: opts.author,
    networkTimeoutMs: opts.networkTimeoutMs ?? 300_000,
    ...(opts.agentHomesDir ? { agentHomesDir: resolve(opts.agentHomesDir) } : {}),
    ...(opts.containsSecret ? { containsSecret: opts.containsSecret } : {}),
    log,
    git,
  };
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** True when `path` is a regular file (a linked worktree's `.git` is one). */
export async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** The mirror itself as the repository of a git call. */
export function mirrorRepo(mirror: string): GitRepo {
  return { gitDir: mirror, commonDir: mirror };
}

/** An issue worktree as the repository of a git call: its known git dir, never what its `.git` file says. */
export function worktreeRepo(paths: { mirror: string; gitDir: string; worktree: string }): GitRepo {
  return { gitDir: paths.gitDir, commonDir: paths.mirror, workTree: paths.worktree };
}
