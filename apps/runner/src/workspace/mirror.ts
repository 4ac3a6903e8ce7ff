import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { GitCredentials } from "@forgehand/core";
import { exists, mirrorRepo, type WorkspaceContext } from "./context";
import { writeMirrorConfig } from "./mirror-config";
import { GitError } from "./run-git";

/** Where the mirror keeps the remote's branches. */
export const ORIGIN = "refs/remotes/origin/";

/** One bare mirror per repository, fetched under the mirror lock (the caller holds it). */
export interface Mirrors {
  /** Creates the bare mirror unless it exists; a half-made one from a crash is started over. */
  ensure(mirror: string): Promise<void>;
  /** Fetches every branch into `refs/remotes/origin/*`, plus `extra` refspecs (a fork PR's head). */
  fetch(mirror: string, url: string, credentials: GitCredentials | null, extra?: string[]): Promise<void>;
  /** The remote's default branch (cached per mirror). */
  remoteHead(mirror: string, url: string, credentials: GitCredentials | null): Promise<string>;
  /** Remote branch tips by short name: at least `baseBranch` and the bot's branches. */
  listRefs(mirror: string, baseBranch: string): Promise<Map<string, string>>;
}

/** The mirror part of the workspaces; remembers each mirror's default branch. */
export function createMirrors(ctx: WorkspaceContext): Mirrors {
  const { log } = ctx;
  const git = (args: string[], mirror: string, extra: Parameters<WorkspaceContext["git"]>[2] = {}) =>
    ctx.git(args, mirror, { repo: mirrorRepo(mirror), ...extra });
  const remoteHeads = new Map<string, string>();

  async function ensure(mirror: string): Promise<void> {
    if (await exists(join(mirror, "HEAD"))) return;
    // A dir without HEAD is a half-made mirror from a crash: start over. Init under a temp name, then
    // rename, so a crash mid-init never leaves a mirror that looks valid.
    await rm(mirror, { recursive: true, force: true });
    await mkdir(dirname(mirror), { recursive: true });
    const tmp = `${mirror}.tmp-${randomUUID().slice(0, 8)}`;
    await ctx.git(["init", "--quiet", "--bare", "--template=", tmp], dirname(mirror));
    // Forgehand's own config from the start (the same text git writes), checked before every later call.
    await writeMirrorConfig(tmp);
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
        timeoutMs: ctx.networkTimeoutMs,
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
   * A runner killed mid-fetch leaves ref lock files behind that would fail every later fetch; since only
   * fetches (which hold the mirror lock, as we do now) write those refs, such a lock is stale: remove it
   * and retry once.
   */
  async function fetch(
    mirror: string,
    url: string,
    credentials: GitCredentials | null,
    extra: string[] = [],
  ): Promise<void> {
    const args = ["fetch", "--quiet", "--no-tags", "--prune", "--", url, `+refs/heads/*:${ORIGIN}*`, ...extra];
    const run = () => git(args, mirror, { credentials, timeoutMs: ctx.networkTimeoutMs });
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
   * Read from the FETCH_HEAD the fetch just wrote (under the mirror lock, and linked worktrees keep their
   * own FETCH_HEAD), which saves a git process on every prepare; `for-each-ref` is the fallback when the
   * file does not name the base branch.
   */
  async function listRefs(mirror: string, baseBranch: string): Promise<Map<string, string>> {
    const fromFetchHead = parseFetchHead(await readFile(join(mirror, "FETCH_HEAD"), "utf8").catch(() => ""));
    if (fromFetchHead.has(baseBranch)) return fromFetchHead;
    const out = await git(
      ["for-each-ref", "--format=%(objectname) %(refname)", `${ORIGIN}${baseBranch}`, `${ORIGIN}${ctx.branchPrefix}`],
      mirror,
    );
    const refs = new Map<string, string>();
    for (const line of out.stdout.split("\n")) {
      const [sha, ref] = line.split(" ");
      if (sha && ref?.startsWith(ORIGIN)) refs.set(ref.slice(ORIGIN.length), sha);
    }
    return refs;
  }

  return { ensure, fetch, remoteHead, listRefs };
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
