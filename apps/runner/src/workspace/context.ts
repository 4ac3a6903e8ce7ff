import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type Logger, silentLogger } from "@forgehand/core";
import { ensureAskpass } from "./askpass";
import { validateBranchPrefix } from "./branch-name";
import { type RunGitOptions, runGit } from "./run-git";
import type { WorkspacesOptions } from "./types";

/** What the mirror, worktree, commit-push and sweep parts share: validated options, the logger and git. */
export interface WorkspaceContext {
  /** Absolute data dir. */
  rootDir: string;
  branchPrefix: string;
  author: { name: string; email: string };
  /** Limit for fetch, ls-remote and push. */
  networkTimeoutMs: number;
  log: Logger;
  /** Runs git with the askpass script (written once per context) and no credentials unless `extra` has some. */
  git(args: string[], cwd: string, extra?: Partial<RunGitOptions>): Promise<{ stdout: string; exitCode: number }>;
}

/** Validates the options and builds the shared context; all state lives on disk apart from the askpass path. */
export function createWorkspaceContext(opts: WorkspacesOptions): WorkspaceContext {
  validateBranchPrefix(opts.branchPrefix);
  if (!opts.author.name.trim() || !opts.author.email.trim() || /[<>\n]/.test(opts.author.name + opts.author.email)) {
    throw new Error(`[workspace] Expected \`author\` with a name and an email, got \`${JSON.stringify(opts.author)}\``);
  }
  const rootDir = resolve(opts.rootDir);
  let askpass: Promise<string> | undefined;

  async function git(args: string[], cwd: string, extra: Partial<RunGitOptions> = {}) {
    askpass ??= ensureAskpass(rootDir).catch((error: unknown) => {
      askpass = undefined;
      throw error;
    });
    return runGit(args, { cwd, askpass: await askpass, credentials: null, ...extra });
  }

  return {
    rootDir,
    branchPrefix: opts.branchPrefix,
    author: opts.author,
    networkTimeoutMs: opts.networkTimeoutMs ?? 300_000,
    log: opts.logger ?? silentLogger,
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
