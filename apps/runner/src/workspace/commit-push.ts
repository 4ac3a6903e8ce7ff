import { join } from "node:path";
import type { GitCredentials, RepoRef } from "@forgehand/core";
import { readLease, writeLease } from "./branch-lease";
import { validateBranch } from "./branch-name";
import { exists, type WorkspaceContext, worktreeRepo } from "./context";
import { HeadMovedError, isLeaseRejection, readPushTarget } from "./pull-request-head";
import { normaliseRemoteUrl } from "./remote-url";
import { scanPush } from "./scan-push";
import { locateWorktree, type WorkspacePaths } from "./workspace-paths";

/**
 * git on the worktree's known git dir (see `WorkspacePaths.gitDir`): the `.git` file in the working tree,
 * which the agent could have pointed at a repository of its own with hooks or filters, is never read.
 */
async function worktreeGit(ctx: WorkspaceContext, worktree: string) {
  const paths: WorkspacePaths = locateWorktree(ctx.rootDir, worktree);
  if (!(await exists(join(paths.gitDir, "HEAD")))) {
    throw new Error(`[workspace] \`${paths.worktree}\` has no git dir at \`${paths.gitDir}\`; prepare it again`);
  }
  const repo = worktreeRepo(paths);
  const git = (args: string[], extra: Parameters<WorkspaceContext["git"]>[2] = {}) =>
    ctx.git(args, paths.worktree, { repo, ...extra });
  return { paths, git };
}

/** Stages everything and commits it as the bot; `committed: false` when there was nothing to commit. */
export async function commitAll(
  ctx: WorkspaceContext,
  worktree: string,
  message: string,
): Promise<{ committed: boolean; sha?: string }> {
  const { git } = await worktreeGit(ctx, worktree);
  await git(["add", "--all"]);
  const diff = await git(["diff", "--cached", "--quiet"], { okExitCodes: [0, 1] });
  if (diff.exitCode === 0) return { committed: false };
  const { name, email } = ctx.author;
  // The message goes through stdin: it may quote issue text, which must never become argv.
  await git(
    [
      "-c",
      `user.name=${name}`,
      "-c",
      `user.email=${email}`,
      "commit",
      "--quiet",
      "--no-verify",
      "--cleanup=whitespace",
      "--file=-",
    ],
    { input: message.trim() || "forgehand: update" },
  );
  const sha = (await git(["rev-parse", "HEAD"])).stdout.trim();
  return { committed: true, sha };
}

/**
 * Pushes HEAD to the bot's `branch` with a lease on the tip it started from; first refuses (SecretInPushError,
 * nothing pushed) when the new commits would publish a secret forgehand holds (`WorkspacesOptions.containsSecret`).
 */
export async function pushBranch(
  ctx: WorkspaceContext,
  worktree: string,
  branch: string,
  repo: RepoRef,
  creds: GitCredentials | null,
): Promise<void> {
  const { branchPrefix } = ctx;
  validateBranch("branch", branch);
  const { paths, git } = await worktreeGit(ctx, worktree);
  // A same-repository PR's head branch is the one other branch a worktree may push to: `prepare` recorded it
  // from the forge's answer for this worktree; a fork PR's worktree has none.
  const target = await readPushTarget(paths.gitDir);
  if (!branch.startsWith(`${branchPrefix}/`) && branch !== target) {
    // The force-with-lease push is only ever meant for the bot's own branches (and a PR's head), never `main`.
    throw new Error(`[workspace] Refusing to push \`${branch}\`: not under \`${branchPrefix}/\``);
  }
  // The agent may have written its own API key (or anything it read) into a file or a commit of its own.
  if (ctx.containsSecret) await scanPush(git, ctx.containsSecret);
  const { url, credentials, withheld } = normaliseRemoteUrl(repo.cloneUrl, creds);
  if (withheld) ctx.log.warn("no credentials for this clone URL", { repo: repo.fullName, why: withheld });
  // Lease on the tip we started from (empty: the branch must not exist yet), so a commit someone else
  // pushed to the bot's branch meanwhile is never overwritten.
  const expected = (await readLease(paths.gitDir)) ?? "";
  try {
    await git(
      [
        "push",
        "--quiet",
        "--no-verify",
        `--force-with-lease=refs/heads/${branch}:${expected}`,
        "--",
        url,
        `HEAD:refs/heads/${branch}`,
      ],
      { credentials, timeoutMs: ctx.networkTimeoutMs },
    );
  } catch (error) {
    // Someone pushed to the PR's head meanwhile: their commits stay; the run says so instead of a git error.
    if (branch === target && expected && isLeaseRejection(error))
      throw new HeadMovedError(branch, expected, { cause: error });
    throw error;
  }
  await writeLease(paths.gitDir, (await git(["rev-parse", "HEAD"])).stdout.trim());
  ctx.log.info("branch pushed", { repo: repo.fullName, branch });
}

/**
 * The worktree's HEAD commit through its known git dir, or undefined when the worktree is gone or broken: a
 * re-picked run publishes an earlier attempt's commit only if this worktree still holds exactly that commit.
 */
export async function worktreeHead(ctx: WorkspaceContext, worktree: string): Promise<string | undefined> {
  try {
    const { git } = await worktreeGit(ctx, worktree);
    const sha = (await git(["rev-parse", "--verify", "HEAD^{commit}"])).stdout.trim();
    return /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}
