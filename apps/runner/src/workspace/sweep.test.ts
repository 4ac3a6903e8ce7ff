import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RepoRef, silentLogger } from "@forgehand/core";
import { acquireLease, leaseHolder, releaseLease } from "@forgehand/queue";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../../test/helpers/redis";
import { exec } from "../testing/exec";
import { createGitOrigin, type GitOrigin } from "./create-git-origin";
import { LAST_USED_FILE } from "./list-worktrees";
import { createWorkspaces, type SweepGuard, type Workspaces } from "./workspaces";
import { issueLeaseGuard } from "./worktree-sweeper";

const AUTHOR = { name: "forgehand[bot]", email: "bot@forgehand.test" };
const DAY = 86_400_000;
const KEY = (issue: number) => `gitea:acme/widgets#${issue}`;

let dir: string;
let origin: GitOrigin;
let repo: RepoRef;
let ws: Workspaces;
let redis: Redis;
let prefix: string;
let guard: SweepGuard;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fh-sweep-"));
  origin = await createGitOrigin(dir);
  repo = { forge: "gitea", fullName: "acme/widgets", owner: "acme", name: "widgets", cloneUrl: origin.path };
  ws = createWorkspaces({ rootDir: join(dir, "data"), author: AUTHOR, branchPrefix: "forgehand" });
  redis = testRedis();
  prefix = uniquePrefix("sweep");
  guard = issueLeaseGuard({ redis, prefix, token: "sweeper", ttlMs: 10_000, logger: silentLogger });
});

afterEach(async () => {
  await redis.quit();
  await rm(dir, { recursive: true, force: true });
});

const git = async (cwd: string, ...args: string[]) => (await exec(["git", ...args], { cwd })).stdout.trim();
const mirror = () => join(dir, "data", "mirrors", "gitea", "acme", "widgets.git");
const worktreePath = (issue: number) => join(dir, "data", "worktrees", "gitea", "acme", "widgets", String(issue));
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Makes the worktree look unused for `days` by backdating its marker (no sleeping). */
async function age(worktree: string, days: number): Promise<void> {
  const marker = join(await git(worktree, "rev-parse", "--absolute-git-dir"), LAST_USED_FILE);
  const then = new Date(Date.now() - days * DAY);
  await utimes(marker, then, then);
}

/** An issue worktree with one commit pushed to the remote branch. */
async function pushedWorktree(issue: number, title: string) {
  const prepared = await ws.prepare({ repo, issue, title, credentials: null });
  await writeFile(join(prepared.worktree, "work.txt"), `work for ${issue}\n`);
  const { sha } = await ws.commitAll(prepared.worktree, `work on ${issue}`);
  await ws.push(prepared.worktree, prepared.branch, repo, null);
  return { ...prepared, sha: sha as string };
}

describe("sweep", () => {
  it("removes an old worktree and its local branch, keeps a recent one and the remote branch", async () => {
    const old = await pushedWorktree(12, "Old work");
    const recent = await ws.prepare({ repo, issue: 13, title: "Recent work", credentials: null });
    await age(old.worktree, 8);
    await age(recent.worktree, 6);

    const result = await ws.sweep(7 * DAY, guard);

    expect(result.removed.map((r) => r.issue)).toEqual([12]);
    expect(result.skipped).toEqual([]);
    expect(await exists(old.worktree)).toBe(false);
    expect(await exists(recent.worktree)).toBe(true);
    const listed = await git(mirror(), "worktree", "list", "--porcelain");
    expect(listed).not.toContain(old.worktree);
    expect(listed).toContain(recent.worktree);
    expect(await git(mirror(), "branch", "--list", "forgehand/12*")).toBe("");
    expect(await git(mirror(), "branch", "--list", "forgehand/13*")).toContain("forgehand/13-recent-work");
    expect(await origin.git("rev-parse", `refs/heads/${old.branch}`)).toBe(old.sha);
    // The sweep's lease is gone again, so the issue can run.
    expect(await leaseHolder(redis, prefix, KEY(12))).toBeNull();
  });

  it("keeps an old worktree whose issue lease is held, and removes it once the lease is free", async () => {
    const old = await ws.prepare({ repo, issue: 12, title: "Busy", credentials: null });
    await age(old.worktree, 30);
    expect(await acquireLease(redis, prefix, KEY(12), "running-job", 10_000)).toBe(true);

    const busy = await ws.sweep(7 * DAY, guard);
    expect(busy.removed).toEqual([]);
    expect(busy.skipped).toMatchObject([{ issue: 12, reason: "busy" }]);
    expect(await exists(join(old.worktree, "README.md"))).toBe(true);
    expect(await leaseHolder(redis, prefix, KEY(12))).toBe("running-job");

    await releaseLease(redis, prefix, KEY(12), "running-job");
    const free = await ws.sweep(7 * DAY, guard);
    expect(free.removed.map((r) => r.issue)).toEqual([12]);
    expect(await exists(old.worktree)).toBe(false);
  });

  it("keeps a worktree a run used between the listing and the removal", async () => {
    const old = await ws.prepare({ repo, issue: 12, title: "Again", credentials: null });
    await age(old.worktree, 30);
    const result = await ws.sweep(7 * DAY, async (_info, remove) => {
      await ws.prepare({ repo, issue: 12, title: "Again", credentials: null });
      await remove();
      return true;
    });
    expect(result.removed).toEqual([]);
    expect(result.skipped).toMatchObject([{ issue: 12, reason: "used" }]);
    expect(await exists(join(old.worktree, "README.md"))).toBe(true);
  });

  it("removes nothing with retention 0, not even old or broken worktrees", async () => {
    const old = await ws.prepare({ repo, issue: 12, title: "Old", credentials: null });
    await age(old.worktree, 365);
    await mkdir(worktreePath(99), { recursive: true });
    let asked = 0;
    const result = await ws.sweep(0, async (_info, remove) => {
      asked++;
      await remove();
      return true;
    });
    expect(result).toEqual({ removed: [], skipped: [], agentHomesRemoved: [] });
    expect(asked).toBe(0);
    expect(await exists(join(old.worktree, "README.md"))).toBe(true);
    expect(await exists(worktreePath(99))).toBe(true);
  });

  it("cleans broken worktree dirs: git metadata gone, or half-made", async () => {
    const gone = await ws.prepare({ repo, issue: 12, title: "Metadata gone", credentials: null });
    const gitDir = await git(gone.worktree, "rev-parse", "--absolute-git-dir");
    await rm(gitDir, { recursive: true, force: true });
    await mkdir(worktreePath(14), { recursive: true });
    await writeFile(join(worktreePath(14), "half.txt"), "a crash left this\n");
    const healthy = await ws.prepare({ repo, issue: 13, title: "Healthy", credentials: null });

    const result = await ws.sweep(7 * DAY, guard);

    expect(result.removed.map((r) => [r.issue, r.broken])).toEqual([
      [12, true],
      [14, true],
    ]);
    expect(await exists(gone.worktree)).toBe(false);
    expect(await exists(worktreePath(14))).toBe(false);
    expect(await exists(join(healthy.worktree, "README.md"))).toBe(true);
    // The registration and the branch of the worktree whose metadata vanished are gone too.
    expect(await git(mirror(), "worktree", "list", "--porcelain")).not.toContain(gone.worktree);
    expect(await git(mirror(), "branch", "--list", "forgehand/12*")).toBe("");
  });

  it("lets a later prepare recreate a removed worktree, continuing from the remote branch", async () => {
    const old = await pushedWorktree(12, "Continue me");
    await age(old.worktree, 8);
    expect((await ws.sweep(7 * DAY, guard)).removed).toHaveLength(1);
    expect(await exists(old.worktree)).toBe(false);

    const again = await ws.prepare({ repo, issue: 12, title: "Continue me", credentials: null });
    expect(again).toMatchObject({ worktree: old.worktree, branch: old.branch, continued: true, startSha: old.sha });
    expect(await readFile(join(again.worktree, "work.txt"), "utf8")).toBe("work for 12\n");
    expect(await git(again.worktree, "rev-parse", "HEAD")).toBe(old.sha);
  });

  it("records the last use in the private git dir, outside the working tree", async () => {
    const before = Date.now() - 1_000;
    const prepared = await ws.prepare({ repo, issue: 12, title: "Marker", credentials: null });
    const gitDir = await git(prepared.worktree, "rev-parse", "--absolute-git-dir");
    expect(gitDir.startsWith(mirror())).toBe(true);
    expect((await stat(join(gitDir, LAST_USED_FILE))).mtimeMs).toBeGreaterThan(before);
    expect(await git(prepared.worktree, "status", "--porcelain", "--ignored")).toBe("");
    await age(prepared.worktree, 8);
    await ws.prepare({ repo, issue: 12, title: "Marker", credentials: null });
    expect((await stat(join(gitDir, LAST_USED_FILE))).mtimeMs).toBeGreaterThan(before);
  });
});
