import { mkdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { writeLease } from "./branch-lease";
import { branchName, validateBranch } from "./branch-name";
import { exists, isFile, mirrorRepo, type WorkspaceContext, worktreeRepo } from "./context";
import { markUsed } from "./list-worktrees";
import type { Mirrors } from "./mirror";
import { withMirrorLock } from "./mirror-lock";
import { fetchedPullHead, forkHeadRefspec, pullLocalBranch, writePushTarget } from "./pull-request-head";
import { normaliseRemoteUrl } from "./remote-url";
import type { PreparedWorkspace, PrepareInput } from "./types";
import { type WorkspacePaths, workspacePaths } from "./workspace-paths";

/**
 * Fetches the mirror and resets the issue's worktree to its remote branch (or the base branch), under the
 * mirror lock. An existing worktree is reused: ignored files (node_modules, build caches) survive.
 */
export async function prepareWorktree(
  ctx: WorkspaceContext,
  mirrors: Mirrors,
  input: PrepareInput,
): Promise<PreparedWorkspace> {
  const started = performance.now();
  const paths = workspacePaths(ctx.rootDir, input.repo, input.issue);
  const wanted = branchName(ctx.branchPrefix, input.issue, input.title);
  const { url, credentials, withheld } = normaliseRemoteUrl(input.repo.cloneUrl, input.credentials);
  if (withheld) ctx.log.warn("no credentials for this clone URL", { repo: input.repo.fullName, why: withheld });
  if (input.baseBranch !== undefined) validateBranch("baseBranch", input.baseBranch);
  if (input.repo.defaultBranch !== undefined) validateBranch("repo.defaultBranch", input.repo.defaultBranch);
  const pr = input.pullRequest;
  // The head branch comes from the forge's answer: refused before it can reach git if it could read as a flag.
  if (pr?.headBranch !== undefined) validateBranch("pullRequest.headBranch", pr.headBranch);
  if (pr && pr.number !== input.issue)
    throw new Error(`[workspace] pull request #${pr.number} prepared as #${input.issue}`);
  return withMirrorLock(paths.lock, async () => {
    await mirrors.ensure(paths.mirror);
    const cleaning = cleanWorktree(ctx, paths);
    const extra = pr && pr.headBranch === undefined ? [forkHeadRefspec(pr.number)] : [];
    const fetching = mirrors.fetch(paths.mirror, url, credentials, extra);
    // Settle both before throwing, so no clean is still running in the worktree once the lock is released.
    const [cleaned, fetched] = await Promise.allSettled([cleaning, fetching]);
    if (fetched.status === "rejected") throw fetched.reason;
    const baseBranch =
      input.baseBranch ?? input.repo.defaultBranch ?? (await mirrors.remoteHead(paths.mirror, url, credentials));
    const refs = await mirrors.listRefs(paths.mirror, baseBranch);
    const baseSha = refs.get(baseBranch);
    if (!baseSha) throw new Error(`[workspace] Base branch \`${baseBranch}\` not found on \`${url}\``);
    // A PR works on its head (pushed to with a lease on the tip fetched now); an issue on its own branch.
    const prHead = pr ? await fetchedPullHead(ctx, paths.mirror, pr) : undefined;
    const branch = pr
      ? (pr.headBranch ?? `pull/${pr.number}/head`)
      : pickBranch(ctx.branchPrefix, wanted, refs, input.issue);
    const local = pr ? pullLocalBranch(ctx.branchPrefix, pr.number) : branch;
    const remoteSha = prHead ?? refs.get(branch);
    const startSha = remoteSha ?? baseSha;
    const reusable = cleaned.status === "fulfilled" && cleaned.value;
    if (reusable) await keepUnpublished(ctx, paths, input.issue);
    await checkoutWorktree(ctx, paths, local, startSha, reusable);
    await restoreGitLink(paths);
    // A fork's head is never pushed: no lease, no push target (push refuses `pull/N/head`).
    await writeLease(paths.gitDir, pr && pr.headBranch === undefined ? undefined : remoteSha);
    await writePushTarget(paths.gitDir, pr?.headBranch);
    await markUsed(paths.gitDir);
    const ms = Math.round(performance.now() - started);
    ctx.log.info("workspace prepared", {
      repo: input.repo.fullName,
      issue: input.issue,
      branch,
      continued: !!remoteSha,
      ms,
    });
    return {
      worktree: paths.worktree,
      branch,
      baseBranch,
      baseSha,
      startSha,
      continued: !!remoteSha,
      ...(withheld ? { credentialsWithheld: withheld } : {}),
    };
  });
}

/**
 * Deletes the worktree dir, its registration and the issue's local branches; the caller holds the mirror
 * lock. Then lets git housekeep the mirror.
 */
export async function removeWorktree(ctx: WorkspaceContext, paths: WorkspacePaths): Promise<void> {
  const { branchPrefix } = ctx;
  const git = (args: string[], extra: Parameters<WorkspaceContext["git"]>[2] = {}) =>
    ctx.git(args, paths.mirror, { repo: mirrorRepo(paths.mirror), ...extra });
  const hasMirror = await exists(join(paths.mirror, "HEAD"));
  let branch: string | undefined;
  if (hasMirror && (await exists(join(paths.gitDir, "HEAD")))) {
    // A git dir git cannot read makes this fail: then only the name pattern below applies.
    const head = await ctx
      .git(["symbolic-ref", "--quiet", "--short", "HEAD"], paths.mirror, { repo: worktreeRepo(paths) })
      .catch(() => undefined);
    branch = head?.stdout.trim() || undefined;
  }
  await rm(paths.worktree, { recursive: true, force: true });
  if (!hasMirror) return;
  await git(["worktree", "prune"]);
  // The local branch is only a cache of what was pushed; drop it so refs do not pile up. The issue's
  // branches by name too: a broken worktree no longer says which one it had checked out.
  const issue = basename(paths.worktree);
  const listed = await git([
    "for-each-ref",
    "--format=%(refname:short)",
    `refs/heads/${branchPrefix}/${issue}`,
    `refs/heads/${branchPrefix}/${issue}-*`,
  ]);
  const branches = new Set(listed.stdout.split("\n").filter(Boolean));
  if (branch) branches.add(branch);
  for (const name of branches) {
    if (!name.startsWith(`${branchPrefix}/`)) continue;
    await git(["branch", "--quiet", "-D", name], { okExitCodes: [0, 1] });
  }
  // Auto-gc is off on every other call (see run-git.ts); housekeeping happens here, off the dispatch
  // path, in the foreground and under the mirror lock. Objects in other live worktrees stay reachable.
  await git(["-c", "gc.auto=6700", "-c", "gc.autoDetach=false", "gc", "--auto", "--quiet"]).catch((error: unknown) =>
    ctx.log.warn("mirror gc failed", { mirror: paths.mirror, error }),
  );
}

/**
 * The computed name, or the issue's existing remote branch when the title (and so the slug) changed
 * since an earlier stage pushed it: one issue keeps one branch and one pull request.
 */
function pickBranch(prefix: string, wanted: string, refs: Map<string, string>, issue: number): string {
  if (refs.has(wanted)) return wanted;
  const bare = `${prefix}/${issue}`;
  const existing = [...refs.keys()].filter((name) => name === bare || name.startsWith(`${bare}-`)).sort();
  return existing[0] ?? wanted;
}

/**
 * Cleans untracked files out of an existing worktree; runs while the mirror fetches (it touches only the
 * worktree), which takes it off the critical path of a warm prepare. Resolves false when the worktree
 * is missing or broken, and it will be recreated.
 */
async function cleanWorktree(ctx: WorkspaceContext, paths: WorkspacePaths): Promise<boolean> {
  const wt = paths.worktree;
  if (!(await isFile(join(wt, ".git"))) || !(await exists(join(paths.gitDir, "HEAD")))) return false;
  try {
    await ctx.git(["clean", "-q", "-ffd"], wt, { repo: worktreeRepo(paths) });
    return true;
  } catch (error) {
    ctx.log.warn("worktree clean failed, recreating it", { worktree: wt, error });
    return false;
  }
}

/**
 * Puts back the `.git` link git wrote, in case the agent rewrote it (or replaced it with a dir): the runner
 * itself never reads it, but the next agent's own git would follow it.
 */
async function restoreGitLink(paths: WorkspacePaths): Promise<void> {
  const link = join(paths.worktree, ".git");
  const want = `gitdir: ${paths.gitDir}\n`;
  if ((await readFile(link, "utf8").catch(() => null)) === want) return;
  await rm(link, { recursive: true, force: true });
  await writeFile(link, want);
}

async function checkoutWorktree(
  ctx: WorkspaceContext,
  paths: WorkspacePaths,
  branch: string,
  startSha: string,
  cleaned: boolean,
) {
  const { log } = ctx;
  const git = (args: string[]) => ctx.git(args, paths.mirror, { repo: mirrorRepo(paths.mirror) });
  const wt = paths.worktree;
  if (cleaned) {
    try {
      // Cleaning first is equivalent to cleaning after: checkout -f writes exactly startSha's tracked
      // files and drops files only the old index knew (staged ones included). Only files that differ
      // are rewritten, keeping a warm prepare cheap. Ignored files (node_modules, build caches)
      // survive on purpose: gates reuse them.
      await ctx.git(["checkout", "--quiet", "--force", "--no-track", "-B", branch, startSha], wt, {
        repo: worktreeRepo(paths),
      });
      return;
    } catch (error) {
      log.warn("worktree reuse failed, recreating it", { worktree: wt, error });
    }
  }
  await rm(wt, { recursive: true, force: true });
  // A leftover git dir of this issue would make git name the new one `<issue>1` (see WorkspacePaths.gitDir).
  await rm(paths.gitDir, { recursive: true, force: true });
  await mkdir(dirname(wt), { recursive: true });
  const add = ["worktree", "add", "--quiet", "--force", "--no-track", "-B", branch, wt, startSha];
  try {
    await git(add);
  } catch (error) {
    // Usually a stale registration of a deleted worktree dir; prune (skipped on the hot path) and retry once.
    log.warn("worktree add failed, pruning and retrying", { worktree: wt, error });
    await rm(wt, { recursive: true, force: true });
    await git(["worktree", "prune"]);
    await git(add);
  }
  const registered = (await readFile(join(paths.gitDir, "gitdir"), "utf8").catch(() => "")).trim();
  const real = (p: string) => realpath(p).catch(() => p);
  if (!registered || (await real(registered)) !== (await real(join(wt, ".git")))) {
    throw new Error(`[workspace] git registered \`${wt}\` under another git dir than \`${paths.gitDir}\``);
  }
}

/**
 * The reset would drop commits an earlier run made but could not push (publishing failed for good, or the
 * runner stopped while retrying it). Nothing is lost: they are kept under
 * `refs/forgehand/unpublished/<issue>/<sha>` in the mirror, where an operator can push or inspect them.
 */
async function keepUnpublished(ctx: WorkspaceContext, paths: WorkspacePaths, issue: number): Promise<void> {
  const wt = paths.worktree;
  const git = (args: string[]) => ctx.git(args, wt, { repo: worktreeRepo(paths) });
  // Commits on HEAD that no remote branch has (the mirror was just fetched, with --prune). One git call on
  // the usual path (none ahead); a HEAD git cannot read makes it fail, and there is nothing to keep then.
  // A fork PR's head (fetched under refs/forgehand/pull/) is on no remote branch and is not the bot's work.
  const ahead = await git([
    "rev-list",
    "--count",
    "HEAD",
    "--not",
    "--remotes=origin",
    "--glob=refs/forgehand/pull/*",
  ]).catch(() => undefined);
  const count = Number(ahead?.stdout.trim() ?? "0");
  if (!(count > 0)) return;
  const sha = (await git(["rev-parse", "--verify", "HEAD"])).stdout.trim();
  const ref = `refs/forgehand/unpublished/${issue}/${sha}`;
  await ctx.git(["update-ref", ref, sha], paths.mirror, { repo: mirrorRepo(paths.mirror) });
  ctx.log.warn("kept commits no remote branch has before resetting the worktree", {
    worktree: wt,
    ref,
    commits: count,
  });
}
