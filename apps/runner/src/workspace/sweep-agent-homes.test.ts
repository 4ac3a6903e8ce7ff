import { mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RepoRef, silentLogger } from "@forgehand/core";
import { acquireLease, releaseLease } from "@forgehand/queue";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../../test/helpers/redis";
import { exec } from "../testing/exec";
import { agentHomePath } from "./agent-homes";
import { createGitOrigin } from "./create-git-origin";
import { LAST_USED_FILE } from "./list-worktrees";
import { createWorkspaces, type SweepGuard, type Workspaces } from "./workspaces";
import { issueLeaseGuard } from "./worktree-sweeper";

const DAY = 86_400_000;

let dir: string;
let homes: string;
let repo: RepoRef;
let ws: Workspaces;
let redis: Redis;
let prefix: string;
let guard: SweepGuard;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fh-sweep-homes-"));
  const origin = await createGitOrigin(dir);
  repo = { forge: "gitea", fullName: "acme/widgets", owner: "acme", name: "widgets", cloneUrl: origin.path };
  homes = join(dir, "data", "agent-homes");
  ws = createWorkspaces({
    rootDir: join(dir, "data", "workspaces"),
    agentHomesDir: homes,
    author: { name: "forgehand[bot]", email: "bot@forgehand.test" },
    branchPrefix: "forgehand",
  });
  redis = testRedis();
  prefix = uniquePrefix("sweephomes");
  guard = issueLeaseGuard({ redis, prefix, token: "sweeper", ttlMs: 10_000, logger: silentLogger });
});

afterEach(async () => {
  await redis.quit();
  await rm(dir, { recursive: true, force: true });
});

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
const homeOf = (issue: number) => agentHomePath(homes, { forge: "gitea", owner: "acme", name: "widgets", issue });
const backdate = (p: string, days: number) => {
  const then = new Date(Date.now() - days * DAY);
  return utimes(p, then, then);
};

async function agedWorktree(issue: number, days: number): Promise<string> {
  const { worktree } = await ws.prepare({ repo, issue, title: `issue ${issue}`, credentials: null });
  const gitDir = (await exec(["git", "rev-parse", "--absolute-git-dir"], { cwd: worktree })).stdout.trim();
  await backdate(join(gitDir, LAST_USED_FILE), days);
  return worktree;
}

/** A HOME as a run leaves it, with a planted link to a file outside that must survive any removal. */
async function agentHome(issue: number, days: number): Promise<string> {
  const home = homeOf(issue);
  await mkdir(join(home, ".claude"), { recursive: true });
  await writeFile(join(home, ".claude", "session.jsonl"), "{}\n");
  await symlink(join(dir, "outside.txt"), join(home, "planted"));
  await backdate(home, days);
  return home;
}

describe("sweep of agent HOMEs", () => {
  beforeEach(() => writeFile(join(dir, "outside.txt"), "outside\n"));

  it("removes an issue's HOME with its worktree, keeps the HOME of a kept worktree", async () => {
    const old = await agedWorktree(5, 8);
    const oldHome = await agentHome(5, 0);
    await agedWorktree(6, 1);
    // Old itself, but its worktree was used yesterday: a /retry must still resume.
    const keptHome = await agentHome(6, 30);

    const result = await ws.sweep(7 * DAY, guard);

    expect(result.removed.map((r) => r.issue)).toEqual([5]);
    expect(result.agentHomesRemoved).toEqual([oldHome]);
    expect(await exists(old)).toBe(false);
    expect(await exists(oldHome)).toBe(false);
    expect(await exists(join(keptHome, ".claude", "session.jsonl"))).toBe(true);
    expect(await readFile(join(dir, "outside.txt"), "utf8")).toBe("outside\n");
  });

  it("removes orphan HOMEs (no worktree) older than the retention, keeps recent ones", async () => {
    const orphan = await agentHome(9, 8);
    const recent = await agentHome(10, 2);
    const result = await ws.sweep(7 * DAY, guard);
    expect(result.agentHomesRemoved).toEqual([orphan]);
    expect(await exists(orphan)).toBe(false);
    expect(await exists(join(recent, ".claude", "session.jsonl"))).toBe(true);
    expect(await readFile(join(dir, "outside.txt"), "utf8")).toBe("outside\n");
  });

  it("keeps an orphan HOME while its issue's lease is held, and with retention 0", async () => {
    const orphan = await agentHome(9, 30);
    expect((await ws.sweep(0, guard)).agentHomesRemoved).toEqual([]);
    const key = "gitea:acme/widgets#9";
    expect(await acquireLease(redis, prefix, key, "running-job", 10_000)).toBe(true);
    expect((await ws.sweep(7 * DAY, guard)).agentHomesRemoved).toEqual([]);
    expect(await exists(join(orphan, ".claude", "session.jsonl"))).toBe(true);
    await releaseLease(redis, prefix, key, "running-job");
    expect((await ws.sweep(7 * DAY, guard)).agentHomesRemoved).toEqual([orphan]);
  });

  it("does not count a future mtime the agent set: the HOME's ctime says when it last changed", async () => {
    const orphan = await agentHome(11, 8);
    const future = new Date(Date.now() + 365 * DAY);
    // As the agent could: utimes also sets ctime to now, so the HOME counts as changed now.
    await utimes(orphan, future, future);
    expect((await ws.sweep(7 * DAY, guard)).agentHomesRemoved).toEqual([]);
    expect((await ws.sweep(1, guard)).agentHomesRemoved).toEqual([orphan]);
  });
});
