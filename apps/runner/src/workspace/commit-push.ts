import type { GitCredentials, RepoRef } from "@forgehand/core";
import { readLease, writeLease } from "./branch-lease";
import { validateBranch } from "./branch-name";
import type { WorkspaceContext } from "./context";
import { normaliseRemoteUrl } from "./remote-url";
import { locateWorktree } from "./workspace-paths";

/** Stages everything and commits it as the bot; `committed: false` when there was nothing to commit. */
export async function commitAll(
  ctx: WorkspaceContext,
  worktree: string,
  message: string,
): Promise<{ committed: boolean; sha?: string }> {
  const { git } = ctx;
  const wt = locateWorktree(ctx.rootDir, worktree).worktree;
  await git(["add", "--all"], wt);
  const diff = await git(["diff", "--cached", "--quiet"], wt, { okExitCodes: [0, 1] });
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
    wt,
    { input: message.trim() || "forgehand: update" },
  );
  const sha = (await git(["rev-parse", "HEAD"], wt)).stdout.trim();
  return { committed: true, sha };
}

/** Pushes HEAD to the bot's `branch` with a lease on the tip it started from. */
export async function pushBranch(
  ctx: WorkspaceContext,
  worktree: string,
  branch: string,
  repo: RepoRef,
  creds: GitCredentials | null,
): Promise<void> {
  const { git, branchPrefix } = ctx;
  const wt = locateWorktree(ctx.rootDir, worktree).worktree;
  validateBranch("branch", branch);
  if (!branch.startsWith(`${branchPrefix}/`)) {
    // The force-with-lease push is only ever meant for the bot's own branches, never `main`.
    throw new Error(`[workspace] Refusing to push \`${branch}\`: not under \`${branchPrefix}/\``);
  }
  const { url, credentials } = normaliseRemoteUrl(repo.cloneUrl, creds);
  // Lease on the tip we started from (empty: the branch must not exist yet), so a commit someone else
  // pushed to the bot's branch meanwhile is never overwritten.
  const expected = (await readLease(wt)) ?? "";
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
    wt,
    { credentials, timeoutMs: ctx.networkTimeoutMs },
  );
  await writeLease(wt, (await git(["rev-parse", "HEAD"], wt)).stdout.trim());
  ctx.log.info("branch pushed", { repo: repo.fullName, branch });
}
