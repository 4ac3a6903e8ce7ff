import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, type IssueRef, issueKey, type RepoRef } from "@forgehand/core";
import { acquireLease, leaseHolder } from "@forgehand/queue";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testRedis, testRedisUrl, uniquePrefix } from "../../../test/helpers/redis";
import { waitFor } from "../../../test/helpers/wait-for";
import { createRunner, type Runner } from "./create-runner";
import { agentHomeDir } from "./sandbox-spec";
import { exec } from "./testing/exec";
import { MemoryForge, memoryForges } from "./testing/memory-forge";
import { fixtureConfig, fixtureRepo } from "./testing/runner-fixture";
import { createGitOrigin } from "./workspace/create-git-origin";
import { LAST_USED_FILE } from "./workspace/list-worktrees";
import { createWorkspaces, type Workspaces } from "./workspace/workspaces";

const DAY = 86_400_000;

describe("runner worktree sweep", () => {
  let dir: string;
  let repo: RepoRef;
  let ws: Workspaces;
  let redis: Redis;
  let prefix: string;
  let runner: Runner | undefined;
  let logs: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "fh-runner-sweep-"));
    const origin = await createGitOrigin(dir);
    repo = fixtureRepo(origin.path);
    // The same layout and branch prefix the runner uses for its own workspaces.
    ws = createWorkspaces({
      rootDir: join(dir, "data", "workspaces"),
      author: { name: "forgehand", email: "bot@forgehand.test" },
      branchPrefix: "forgehand",
    });
    redis = testRedis();
    prefix = uniquePrefix("wtsweep");
    logs = [];
    runner = undefined;
  });

  afterEach(async () => {
    await runner?.close({ graceMs: 0 });
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  const exists = (p: string) =>
    stat(p).then(
      () => true,
      () => false,
    );

  async function prepareAged(issue: number, days: number): Promise<string> {
    const { worktree } = await ws.prepare({ repo, issue, title: `issue ${issue}`, credentials: null });
    const gitDir = (await exec(["git", "rev-parse", "--absolute-git-dir"], { cwd: worktree })).stdout.trim();
    const then = new Date(Date.now() - days * DAY);
    await utimes(join(gitDir, LAST_USED_FILE), then, then);
    return worktree;
  }

  function startRunner(worktreeRetention: string, worktreeSweepMs: number): Promise<void> {
    runner = createRunner({
      config: fixtureConfig({}, { runner: { worktreeRetention } }),
      configDir: dir,
      redisUrl: testRedisUrl(),
      prefix,
      forges: memoryForges(new MemoryForge()),
      logger: createLogger({ format: "json", level: "info", write: (line) => logs.push(line) }),
      dataDir: join(dir, "data"),
      runnerId: "sweep-runner",
      env: { PATH: process.env.PATH, HOME: dir },
      timings: { worktreeSweepMs, leaseTtlMs: 5_000 },
    });
    return runner.start();
  }

  /** The sweep logs one line per removal, after the removal (and the mirror's housekeeping) finished. */
  const removedLogged = (worktree: string) =>
    logs.some((l) => l.includes('"worktree removed"') && l.includes(JSON.stringify(worktree)));

  const POLL = { timeoutMs: 20_000, intervalMs: 50 };
  /** A wait that timed out shows the runner's log: it says why no sweep removed the worktree. */
  const withLogs = (error: Error): never => {
    throw new Error(`${error.message}; logs:\n${logs.join("\n")}`, { cause: error });
  };

  it("sweeps at start and then on its timer, skipping an issue whose run holds the lease", async () => {
    const old = await prepareAged(5, 8);
    const busy = await prepareAged(7, 30);
    const recent = await prepareAged(6, 1);
    // The sandbox's HOMEs of issues 5 and 6, where the runner's sandbox puts them.
    const homeOf = (number: number) => agentHomeDir(join(dir, "data"), { repo, number, isPr: false });
    for (const n of [5, 6]) {
      await mkdir(homeOf(n), { recursive: true });
      await writeFile(join(homeOf(n), "session"), "s");
    }
    // A run on issue 7 holds the lease under the key runs use (issueKey of the delivery's IssueRef).
    const ref: IssueRef = { repo, number: 7, isPr: false };
    const busyKey = issueKey(ref);
    expect(await acquireLease(redis, prefix, busyKey, "live-run", 60_000)).toBe(true);

    await startRunner("7d", 200);
    await waitFor("the start sweep to remove issue 5", () => removedLogged(old), POLL).catch(withLogs);
    expect(await exists(old)).toBe(false);
    expect(await exists(homeOf(5))).toBe(false);
    expect(await exists(join(homeOf(6), "session"))).toBe(true);
    expect(await exists(join(recent, "README.md"))).toBe(true);
    expect(await exists(join(busy, "README.md"))).toBe(true);
    expect(await leaseHolder(redis, prefix, busyKey)).toBe("live-run");

    // Issue 6 goes stale while the runner lives: the hourly (here 200 ms) sweep takes it.
    await prepareAged(6, 8);
    await waitFor("a timed sweep to remove issue 6", () => removedLogged(recent), POLL).catch(withLogs);
    expect(await exists(recent)).toBe(false);
    expect(await exists(join(busy, "README.md"))).toBe(true);
    expect(removedLogged(busy)).toBe(false);
  });

  it("sweeps nothing when runner.worktreeRetention is 0", async () => {
    const old = await prepareAged(5, 365);
    await startRunner("0", 50);
    await sleep(500);
    await runner?.close({ graceMs: 0 });
    expect(await exists(join(old, "README.md"))).toBe(true);
    expect(logs.some((l) => l.includes("worktree cleanup off"))).toBe(true);
    expect(logs.some((l) => l.includes('"worktree removed"'))).toBe(false);
  });
});
