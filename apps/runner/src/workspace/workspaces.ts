import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { type GitCredentials, type Logger, type RepoRef, silentLogger } from "@forgehand/core";
import { ensureAskpass } from "./askpass";
import { branchName, validateBranchPrefix } from "./branch-name";
import { inspectWorktree, listWorktrees, markUsed, type WorktreeInfo, worktreeGitDir } from "./list-worktrees";
import { withMirrorLock } from "./mirror-lock";
import { normaliseRemoteUrl } from "./remote-url";
import { GitError, type RunGitOptions, runGit } from "./run-git";
import { locateWorktree, type WorkspacePaths, workspacePaths } from "./workspace-paths";

export interface WorkspacesOptions {
  /** Data dir holding `mirrors/`, `worktrees/`, `askpass.sh`. */
  rootDir: string;
  logger?: Logger;
  /** Author and committer of the bot's commits. */
  author: { name: string; email: string };
  /** First part of every branch: `forgehand` → `forgehand/12-fix-login`. */
  branchPrefix: string;
  /** Limit for fetch, ls-remote and push. @defaultValue 300000 */
  networkTimeoutMs?: number;
}

export interface PrepareInput {
  repo: RepoRef;
  issue: number;
  title: string;
  credentials: GitCredentials | null;
  /** Branch to start from when the issue has no branch on the remote yet. @defaultValue repo.defaultBranch, else the remote HEAD */
  baseBranch?: string;
}

export interface PreparedWorkspace {
  worktree: string;
  branch: string;
  baseBranch: string;
  baseSha: string;
  /** Commit the worktree was reset to: the remote branch tip when continuing, else `baseSha`. */
  startSha: string;
  /** True when the branch already existed on the remote (a later stage continues earlier work). */
  continued: boolean;
}

/** Mirrors, per-issue worktrees, commits and pushes for the runner. */
export interface Workspaces {
  prepare(input: PrepareInput): Promise<PreparedWorkspace>;
  commitAll(worktree: string, message: string): Promise<{ committed: boolean; sha?: string }>;
  push(worktree: string, branch: string, repo: RepoRef, credentials: GitCredentials | null): Promise<void>;
  remove(worktree: string): Promise<void>;
  /**
   * Removes worktrees (and their local branches) not used for `olderThanMs`, plus broken ones, each only
   * through `guard`; `olderThanMs <= 0` removes nothing. One worktree failing never stops the sweep.
   */
  sweep(olderThanMs: number, guard: SweepGuard, opts?: { signal?: AbortSignal }): Promise<SweepResult>;
}

/**
 * Runs `remove` while no run can start on the worktree's issue (the runner holds the issue lease), and
 * resolves true; resolves false without calling it when the issue is busy.
 */
export type SweepGuard = (worktree: WorktreeInfo, remove: () => Promise<void>) => Promise<boolean>;

export interface SweepResult {
  removed: WorktreeInfo[];
  /** Old or broken worktrees left in place: `busy` (guard said no), `used` (a run used it meanwhile), `error`. */
  skipped: Array<WorktreeInfo & { reason: "busy" | "used" | "error" }>;
}

/** File in the worktree's private git dir holding the remote tip the branch started from (absent: a new branch). */
const LEASE_FILE = "forgehand-lease";
const ORIGIN = "refs/remotes/origin/";

/** Creates the workspace manager; all state lives on disk, so several instances (or processes) can share `rootDir`. */
export function createWorkspaces(opts: WorkspacesOptions): Workspaces {
  validateBranchPrefix(opts.branchPrefix);
  if (!opts.author.name.trim() || !opts.author.email.trim() || /[<>\n]/.test(opts.author.name + opts.author.email)) {
    throw new Error(`[workspace] Expected \`author\` with a name and an email, got \`${JSON.stringify(opts.author)}\``);
  }
  const rootDir = resolve(opts.rootDir);
  const log = opts.logger ?? silentLogger;
  const networkTimeoutMs = opts.networkTimeoutMs ?? 300_000;
  let askpass: Promise<string> | undefined;
  const remoteHeads = new Map<string, string>();

  async function git(args: string[], cwd: string, extra: Partial<RunGitOptions> = {}) {
    askpass ??= ensureAskpass(rootDir).catch((error: unknown) => {
      askpass = undefined;
      throw error;
    });
    return runGit(args, { cwd, askpass: await askpass, credentials: null, ...extra });
  }

  async function ensureMirror(mirror: string): Promise<void> {
    if (await exists(join(mirror, "HEAD"))) return;
    // A dir without HEAD is a half-made mirror from a crash: start over. Init under a temp name, then
    // rename, so a crash mid-init never leaves a mirror that looks valid.
    await rm(mirror, { recursive: true, force: true });
    await mkdir(dirname(mirror), { recursive: true });
    const tmp = `${mirror}.tmp-${randomUUID().slice(0, 8)}`;
    await git(["init", "--quiet", "--bare", "--template=", tmp], dirname(mirror));
    await rename(tmp, mirror);
  }

  async function remoteHead(mirror: string, url: string, credentials: GitCredentials | null): Promise<string> {
    const known = remoteHeads.get(mirror);
    if (known) return known;
    const cached = await git(["symbolic-ref", "--quiet", `${ORIGIN}HEAD`], mirror, { okExitCodes: [0, 1] });
    let head =
      cached.exitCode === 0 && cached.stdout.startsWith(ORIGIN) ? cached.stdout.slice(ORIGIN.length) : undefined;
    if (!head) {
      const listed = await git(["ls-remote", "--symref", "--", url, "HEAD"], mirror, {
        credentials,
        timeoutMs: networkTimeoutMs,
      });
      head = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(listed.stdout)?.[1];
      if (!head) throw new Error(`[workspace] Cannot tell the default branch of \`${url}\`; pass \`baseBranch\``);
      await git(["symbolic-ref", `${ORIGIN}HEAD`, `${ORIGIN}${head}`], mirror);
    }
    // Remembered per mirror (the default branch rarely changes; forges usually send it in the payload anyway).
    remoteHeads.set(mirror, head);
    return head;
  }

  /**
   * Fetches every branch into `refs/remotes/origin/*`. A runner killed mid-fetch leaves ref lock files
   * behind that would fail every later fetch; since only fetches (which hold the mirror lock, as we do
   * now) write those refs, such a lock is stale: remove it and retry once.
   */
  async function fetchMirror(mirror: string, url: string, credentials: GitCredentials | null): Promise<void> {
    const args = ["fetch", "--quiet", "--no-tags", "--prune", "--", url, `+refs/heads/*:${ORIGIN}*`];
    const run = () => git(args, mirror, { credentials, timeoutMs: networkTimeoutMs });
    try {
      await run();
    } catch (error) {
      const stale = error instanceof GitError ? staleFetchLocks(mirror, error.stderr) : [];
      if (stale.length === 0) throw error;
      log.warn("removing stale ref locks left by an interrupted fetch", { mirror, locks: stale });
      await Promise.all(stale.map((file) => rm(file, { force: true })));
      await run();
    }
  }

  /**
   * Remote branch tips by short name. Read from the FETCH_HEAD the fetch just wrote (under the mirror
   * lock, and linked worktrees keep their own FETCH_HEAD), which saves a git process on every prepare;
   * `for-each-ref` is the fallback when the file does not name the base branch.
   */
  async function listRefs(mirror: string, baseBranch: string): Promise<Map<string, string>> {
    const fromFetchHead = parseFetchHead(await readFile(join(mirror, "FETCH_HEAD"), "utf8").catch(() => ""));
    if (fromFetchHead.has(baseBranch)) return fromFetchHead;
    const out = await git(
      ["for-each-ref", "--format=%(objectname) %(refname)", `${ORIGIN}${baseBranch}`, `${ORIGIN}${opts.branchPrefix}`],
      mirror,
    );
    const refs = new Map<string, string>();
    for (const line of out.stdout.split("\n")) {
      const [sha, ref] = line.split(" ");
      if (sha && ref?.startsWith(ORIGIN)) refs.set(ref.slice(ORIGIN.length), sha);
    }
    return refs;
  }

  /**
   * The computed name, or the issue's existing remote branch when the title (and so the slug) changed
   * since an earlier stage pushed it: one issue keeps one branch and one pull request.
   */
  function pickBranch(wanted: string, refs: Map<string, string>, issue: number): string {
    if (refs.has(wanted)) return wanted;
    const bare = `${opts.branchPrefix}/${issue}`;
    const existing = [...refs.keys()].filter((name) => name === bare || name.startsWith(`${bare}-`)).sort();
    return existing[0] ?? wanted;
  }

  /**
   * Cleans untracked files out of an existing worktree; runs while the mirror fetches (it touches only the
   * worktree), which takes it off the critical path of a warm prepare. Resolves false when the worktree
   * is missing or broken, and it will be recreated.
   */
  async function cleanWorktree(wt: string): Promise<boolean> {
    if (!(await isFile(join(wt, ".git")))) return false;
    try {
      await git(["clean", "-q", "-ffd"], wt);
      return true;
    } catch (error) {
      log.warn("worktree clean failed, recreating it", { worktree: wt, error });
      return false;
    }
  }

  async function checkoutWorktree(paths: WorkspacePaths, branch: string, startSha: string, cleaned: boolean) {
    const wt = paths.worktree;
    if (cleaned) {
      try {
        // Cleaning first is equivalent to cleaning after: checkout -f writes exactly startSha's tracked
        // files and drops files only the old index knew (staged ones included). Only files that differ
        // are rewritten, keeping a warm prepare cheap. Ignored files (node_modules, build caches)
        // survive on purpose: gates reuse them.
        await git(["checkout", "--quiet", "--force", "--no-track", "-B", branch, startSha], wt);
        return;
      } catch (error) {
        log.warn("worktree reuse failed, recreating it", { worktree: wt, error });
      }
    }
    await rm(wt, { recursive: true, force: true });
    await mkdir(dirname(wt), { recursive: true });
    const add = ["worktree", "add", "--quiet", "--force", "--no-track", "-B", branch, wt, startSha];
    try {
      await git(add, paths.mirror);
    } catch (error) {
      // Usually a stale registration of a deleted worktree dir; prune (skipped on the hot path) and retry once.
      log.warn("worktree add failed, pruning and retrying", { worktree: wt, error });
      await rm(wt, { recursive: true, force: true });
      await git(["worktree", "prune"], paths.mirror);
      await git(add, paths.mirror);
    }
  }

  /**
   * The reset below would drop commits an earlier run made but could not push (publishing failed for good,
   * or the runner stopped while retrying it). Nothing is lost: they are kept under
   * `refs/forgehand/unpublished/<issue>/<sha>` in the mirror, where an operator can push or inspect them.
   */
  async function keepUnpublished(paths: WorkspacePaths, issue: number): Promise<void> {
    const wt = paths.worktree;
    // Commits on HEAD that no remote branch has (the mirror was just fetched, with --prune). One git call on
    // the usual path (none ahead); a HEAD git cannot read makes it fail, and there is nothing to keep then.
    const ahead = await git(["rev-list", "--count", "HEAD", "--not", "--remotes=origin"], wt).catch(() => undefined);
    const count = Number(ahead?.stdout.trim() ?? "0");
    if (!(count > 0)) return;
    const sha = (await git(["rev-parse", "--verify", "HEAD"], wt)).stdout.trim();
    const ref = `refs/forgehand/unpublished/${issue}/${sha}`;
    await git(["update-ref", ref, sha], paths.mirror);
    log.warn("kept commits no remote branch has before resetting the worktree", { worktree: wt, ref, commits: count });
  }

  async function prepare(input: PrepareInput): Promise<PreparedWorkspace> {
    const started = performance.now();
    const paths = workspacePaths(rootDir, input.repo, input.issue);
    const wanted = branchName(opts.branchPrefix, input.issue, input.title);
    const { url, credentials } = normaliseRemoteUrl(input.repo.cloneUrl, input.credentials);
    if (input.baseBranch !== undefined) validateBranch("baseBranch", input.baseBranch);
    if (input.repo.defaultBranch !== undefined) validateBranch("repo.defaultBranch", input.repo.defaultBranch);
    return withMirrorLock(paths.lock, async () => {
      await ensureMirror(paths.mirror);
      const cleaning = cleanWorktree(paths.worktree);
      const fetching = fetchMirror(paths.mirror, url, credentials);
      // Settle both before throwing, so no clean is still running in the worktree once the lock is released.
      const [cleaned, fetched] = await Promise.allSettled([cleaning, fetching]);
      if (fetched.status === "rejected") throw fetched.reason;
      const baseBranch =
        input.baseBranch ?? input.repo.defaultBranch ?? (await remoteHead(paths.mirror, url, credentials));
      const refs = await listRefs(paths.mirror, baseBranch);
      const baseSha = refs.get(baseBranch);
      if (!baseSha) throw new Error(`[workspace] Base branch \`${baseBranch}\` not found on \`${url}\``);
      const branch = pickBranch(wanted, refs, input.issue);
      const remoteSha = refs.get(branch);
      const startSha = remoteSha ?? baseSha;
      if (cleaned.status === "fulfilled" && cleaned.value) await keepUnpublished(paths, input.issue);
      await checkoutWorktree(paths, branch, startSha, cleaned.status === "fulfilled" && cleaned.value);
      await writeLease(paths.worktree, remoteSha);
      await markUsed(await worktreeGitDir(paths.worktree));
      const ms = Math.round(performance.now() - started);
      log.info("workspace prepared", {
        repo: input.repo.fullName,
        issue: input.issue,
        branch,
        continued: !!remoteSha,
        ms,
      });
      return { worktree: paths.worktree, branch, baseBranch, baseSha, startSha, continued: !!remoteSha };
    });
  }

  async function commitAll(worktree: string, message: string): Promise<{ committed: boolean; sha?: string }> {
    const wt = locateWorktree(rootDir, worktree).worktree;
    await git(["add", "--all"], wt);
    const diff = await git(["diff", "--cached", "--quiet"], wt, { okExitCodes: [0, 1] });
    if (diff.exitCode === 0) return { committed: false };
    const { name, email } = opts.author;
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

  async function push(worktree: string, branch: string, repo: RepoRef, creds: GitCredentials | null): Promise<void> {
    const wt = locateWorktree(rootDir, worktree).worktree;
    validateBranch("branch", branch);
    if (!branch.startsWith(`${opts.branchPrefix}/`)) {
      // The force-with-lease push is only ever meant for the bot's own branches, never `main`.
      throw new Error(`[workspace] Refusing to push \`${branch}\`: not under \`${opts.branchPrefix}/\``);
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
      { credentials, timeoutMs: networkTimeoutMs },
    );
    await writeLease(wt, (await git(["rev-parse", "HEAD"], wt)).stdout.trim());
    log.info("branch pushed", { repo: repo.fullName, branch });
  }

  async function remove(worktree: string): Promise<void> {
    const paths = locateWorktree(rootDir, worktree);
    await withMirrorLock(paths.lock, () => removeLocked(paths));
  }

  /** Deletes the worktree dir, its registration and the issue's local branches; caller holds the mirror lock. */
  async function removeLocked(paths: WorkspacePaths): Promise<void> {
    const hasMirror = await exists(join(paths.mirror, "HEAD"));
    let branch: string | undefined;
    if (hasMirror && (await isFile(join(paths.worktree, ".git")))) {
      // A worktree whose git dir is gone makes git fail here (exit 128): then only the name pattern below applies.
      const head = await git(["symbolic-ref", "--quiet", "--short", "HEAD"], paths.worktree).catch(() => undefined);
      branch = head?.stdout.trim() || undefined;
    }
    await rm(paths.worktree, { recursive: true, force: true });
    if (!hasMirror) return;
    await git(["worktree", "prune"], paths.mirror);
    // The local branch is only a cache of what was pushed; drop it so refs do not pile up. The issue's
    // branches by name too: a broken worktree no longer says which one it had checked out.
    const issue = basename(paths.worktree);
    const listed = await git(
      [
        "for-each-ref",
        "--format=%(refname:short)",
        `refs/heads/${opts.branchPrefix}/${issue}`,
        `refs/heads/${opts.branchPrefix}/${issue}-*`,
      ],
      paths.mirror,
    );
    const branches = new Set(listed.stdout.split("\n").filter(Boolean));
    if (branch) branches.add(branch);
    for (const name of branches) {
      if (!name.startsWith(`${opts.branchPrefix}/`)) continue;
      await git(["branch", "--quiet", "-D", name], paths.mirror, { okExitCodes: [0, 1] });
    }
    // Auto-gc is off on every other call (see run-git.ts); housekeeping happens here, off the dispatch
    // path, in the foreground and under the mirror lock. Objects in other live worktrees stay reachable.
    await git(["-c", "gc.auto=6700", "-c", "gc.autoDetach=false", "gc", "--auto", "--quiet"], paths.mirror).catch(
      (error: unknown) => log.warn("mirror gc failed", { mirror: paths.mirror, error }),
    );
  }

  async function sweep(olderThanMs: number, guard: SweepGuard, sweepOpts: { signal?: AbortSignal } = {}) {
    const result: SweepResult = { removed: [], skipped: [] };
    if (!(olderThanMs > 0)) return result;
    const isStale = (info: WorktreeInfo) => info.broken || Date.now() - info.lastUsedMs >= olderThanMs;
    for (const found of await listWorktrees(rootDir)) {
      if (sweepOpts.signal?.aborted) break;
      if (!isStale(found)) continue;
      const paths = locateWorktree(rootDir, found.worktree);
      const done: { outcome?: "removed" | "used" } = {};
      try {
        const allowed = await guard(found, () =>
          withMirrorLock(paths.lock, async () => {
            // Looked at again under the issue lease and the mirror lock: a run may have used it since the listing.
            const now = await inspectWorktree(rootDir, found.worktree);
            if (now && !isStale(now)) {
              done.outcome = "used";
              return;
            }
            await removeLocked(paths);
            done.outcome = "removed";
          }),
        );
        if (done.outcome === "removed") {
          result.removed.push(found);
          const idleDays = Math.round(((Date.now() - found.lastUsedMs) / 86_400_000) * 10) / 10;
          log.info("worktree removed", { worktree: found.worktree, broken: found.broken, idleDays });
        } else result.skipped.push({ ...found, reason: allowed && done.outcome === "used" ? "used" : "busy" });
      } catch (error) {
        log.warn("worktree sweep failed", { worktree: found.worktree, error });
        result.skipped.push({ ...found, reason: "error" });
      }
    }
    return result;
  }

  return { prepare, commitAll, push, remove, sweep };
}

/** Branch names from payloads or callers: refuse what git could read as a flag, a glob or a bad ref. */
function validateBranch(what: string, name: string): void {
  const ok =
    /^[A-Za-z0-9_][A-Za-z0-9._/+@-]*$/.test(name) &&
    !name.includes("..") &&
    !name.includes("//") &&
    !name.includes("@{") &&
    !name.endsWith("/") &&
    !name.endsWith(".lock") &&
    !name.endsWith(".");
  if (!ok) throw new Error(`[workspace] Expected \`${what}\` to be a git branch name, got \`${name}\``);
}

async function writeLease(worktree: string, sha: string | undefined): Promise<void> {
  const file = join(await worktreeGitDir(worktree), LEASE_FILE);
  if (sha) await writeFile(file, `${sha}\n`);
  else await rm(file, { force: true });
}

async function readLease(worktree: string): Promise<string | undefined> {
  const file = join(await worktreeGitDir(worktree), LEASE_FILE);
  const sha = (await readFile(file, "utf8").catch(() => "")).trim();
  return /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
}

/** `<sha>\t[not-for-merge]\tbranch '<name>' of <url>` lines → name → sha. */
export function parseFetchHead(text: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [sha, , what] = line.split("\t");
    if (!sha || !/^[0-9a-f]{40,64}$/.test(sha) || !what?.startsWith("branch '")) continue;
    const end = what.lastIndexOf("' of ");
    if (end > "branch '".length) refs.set(what.slice("branch '".length, end), sha);
  }
  return refs;
}

/** Lock files named in git's "Unable to create '…lock': File exists" that only a fetch would hold. */
function staleFetchLocks(mirror: string, stderr: string): string[] {
  const files: string[] = [];
  for (const match of stderr.matchAll(/Unable to create '([^']+\.lock)': File exists/g)) {
    const file = resolve(match[1] ?? "");
    const rel = relative(mirror, file);
    if (rel.startsWith(ORIGIN) || rel === "packed-refs.lock" || rel === "shallow.lock") files.push(file);
  }
  return files;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
