import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { mirrorRepo, type WorkspaceContext } from "./context";
import { ORIGIN } from "./mirror";
import { GitError } from "./run-git";
import type { PullRequestHead } from "./types";

/**
 * File in the worktree's private git dir naming the one branch outside `branchPrefix/` its push may go to:
 * a same-repository PR's head branch, written by `prepare`. Absent for issues and fork PRs (nothing to push to).
 */
const PUSH_TARGET_FILE = "forgehand-push-target";

/** Where a fork PR's head is fetched to in the mirror (`refs/pull/N/head` on GitHub and Gitea alike). */
export function forkHeadRef(number: number): string {
  return `refs/forgehand/pull/${number}/head`;
}

/** The extra refspec a fork PR's prepare fetches with the branches. */
export function forkHeadRefspec(number: number): string {
  return `+refs/pull/${number}/head:${forkHeadRef(number)}`;
}

export async function writePushTarget(gitDir: string, branch: string | undefined): Promise<void> {
  const file = join(gitDir, PUSH_TARGET_FILE);
  if (branch) await writeFile(file, `${branch}\n`);
  else await rm(file, { force: true });
}

export async function readPushTarget(gitDir: string): Promise<string | undefined> {
  const text = (await readFile(join(gitDir, PUSH_TARGET_FILE), "utf8").catch(() => "")).trim();
  return text || undefined;
}

/** The local branch a PR's worktree checks out (the head branch itself may be checked out by another worktree). */
export function pullLocalBranch(prefix: string, number: number): string {
  return `${prefix}/${number}-pull-head`;
}

/**
 * The PR head's tip as just fetched into the mirror: the head branch for a same-repository PR, the fetched
 * `refs/pull/N/head` for a fork. Differs from the sha the forge answered when someone pushed in between; the
 * fetched one is newer, and it is what the push's lease is taken on.
 */
export async function fetchedPullHead(ctx: WorkspaceContext, mirror: string, pr: PullRequestHead): Promise<string> {
  const ref = pr.headBranch !== undefined ? `${ORIGIN}${pr.headBranch}` : forkHeadRef(pr.number);
  const out = await ctx.git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], mirror, {
    repo: mirrorRepo(mirror),
    okExitCodes: [0, 1],
  });
  const sha = out.stdout.trim();
  if (out.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(sha)) {
    const what =
      pr.headBranch !== undefined ? `head branch \`${pr.headBranch}\`` : `head \`refs/pull/${pr.number}/head\``;
    throw new Error(
      `[workspace] Pull request #${pr.number}'s ${what} is not on the remote (deleted, or the PR is gone)`,
    );
  }
  if (sha !== pr.headSha)
    ctx.log.info("PR head moved between the forge's answer and the fetch; starting from the fetched tip", {
      pr: pr.number,
      forge: pr.headSha,
      fetched: sha,
    });
  return sha;
}

/** A push to a PR's head branch refused because the branch moved since the run started from `expected`. */
export class HeadMovedError extends Error {
  constructor(
    readonly branch: string,
    readonly expected: string,
    options?: { cause?: unknown },
  ) {
    super(
      `[workspace] the head branch \`${branch}\` moved while the stage ran (it started from ${expected.slice(0, 12)}); nothing was overwritten — run the stage again on the new head`,
      options,
    );
    this.name = "HeadMovedError";
  }
}

/** Whether a failed `push --force-with-lease` failed on the lease (git: "stale info", or a plain rejection). */
export function isLeaseRejection(error: unknown): boolean {
  return error instanceof GitError && /\(stale info\)|\[rejected\]|non-fast-forward|fetch first/.test(error.stderr);
}
