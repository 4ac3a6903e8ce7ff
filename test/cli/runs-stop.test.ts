import type { RunRecord } from "@forgehand/core";
import { createRunStore, createSpendLedger, readStop } from "@forgehand/queue";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, testRedisUrl, uniquePrefix } from "../helpers/redis";
import { cleanEnv, runForgehand, tempDir } from "./run-forgehand";

const prefix = uniquePrefix("cli-runs");
let redis: Redis;

function record(over: Partial<RunRecord>): RunRecord {
  return {
    id: "r-x",
    forge: "github",
    repo: "octo/widgets",
    issue: 7,
    isPr: false,
    stage: "develop",
    state: "queued",
    createdAt: Date.now(),
    turns: 0,
    costUsd: 0,
    attempts: 0,
    lastActions: [],
    ...over,
  };
}

const env = () => cleanEnv({ REDIS_URL: testRedisUrl(), FORGEHAND_PREFIX: prefix });

beforeAll(async () => {
  redis = testRedis();
  const store = createRunStore(redis, prefix);
  const now = Date.now();
  await store.create(
    record({
      id: "r-old",
      issue: 3,
      stage: "analyse",
      state: "succeeded",
      createdAt: now - 600_000,
      startedAt: now - 600_000,
      endedAt: now - 480_000,
      turns: 12,
      maxTurns: 30,
      costUsd: 0.5,
      budgetUsd: 1,
    }),
  );
  await store.create(
    record({
      id: "r-live",
      state: "running",
      createdAt: now - 65_000,
      startedAt: now - 65_000,
      turns: 3,
      maxTurns: 40,
      costUsd: 0.25,
      budgetUsd: 2,
    }),
  );
});
afterAll(async () => {
  await redis.quit();
});

describe("forgehand runs", { timeout: 90_000 }, () => {
  it("prints a table of recent runs, newest first: id, repo#issue, stage, state, elapsed, turns, cost", async () => {
    const { code, stdout } = await runForgehand(["runs"], { env: env() });
    expect(code).toBe(0);
    const rows = stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^ID\s+ISSUE\s+STAGE\s+STATE\s+ELAPSED\s+TURNS\s+COST$/);
    // 65 s old when written; the CLI may take a while to start on a loaded machine.
    expect(rows[1]).toMatch(/^r-live\s+octo\/widgets#7\s+develop\s+running\s+1m [0-5]\ds\s+3\/40\s+\$0\.25\/\$2\.00$/);
    expect(rows[2]).toMatch(/^r-old\s+octo\/widgets#3\s+analyse\s+succeeded\s+2m 00s\s+12\/30\s+\$0\.50\/\$1\.00$/);
    expect(rows).toHaveLength(3);
  });

  it("shows spend per repository and UTC day below the runs, with the day's total", async () => {
    const spendPrefix = uniquePrefix("cli-spend");
    const ledger = createSpendLedger(redis, spendPrefix, {});
    await ledger.add({ issue: "github:octo/widgets#7", repo: "github:octo/widgets" }, 1.25);
    await ledger.add({ issue: "gitea:o/r#1", repo: "gitea:o/r" }, 0.5);
    const { code, stdout } = await runForgehand(["runs"], {
      env: cleanEnv({ REDIS_URL: testRedisUrl(), FORGEHAND_PREFIX: spendPrefix }),
    });
    expect(code).toBe(0);
    const day = new Date().toISOString().slice(0, 10);
    const rows = stdout.trim().split("\n");
    expect(rows[0]).toBe("no runs yet");
    expect(rows.slice(2)).toEqual([
      expect.stringMatching(/^DAY \(UTC\)\s+REPOSITORY\s+SPENT$/),
      expect.stringMatching(new RegExp(`^${day}\\s+github:octo/widgets\\s+\\$1\\.25$`)),
      expect.stringMatching(new RegExp(`^${day}\\s+gitea:o/r\\s+\\$0\\.50$`)),
      expect.stringMatching(new RegExp(`^${day}\\s+\\(all repositories\\)\\s+\\$1\\.75$`)),
    ]);
  });

  it("--json prints the records, and --limit caps them", async () => {
    const { code, stdout } = await runForgehand(["runs", "--json", "--limit", "1"], { env: env() });
    expect(code).toBe(0);
    const runs = JSON.parse(stdout) as RunRecord[];
    expect(runs.map((r) => [r.id, r.state, r.turns])).toEqual([["r-live", "running", 3]]);
  });

  it("explains what to do when there is no Redis to read", async () => {
    const { code, stderr } = await runForgehand(["runs"], {
      env: cleanEnv({ FORGEHAND_DATA_DIR: tempDir("noredis") }),
    });
    expect(code).toBe(1);
    expect(stderr).toContain("no Redis to read from. Set REDIS_URL");
  });
});

describe("forgehand stop", { timeout: 90_000 }, () => {
  it("persists and announces a stop request for a live run", async () => {
    const { code, stdout } = await runForgehand(["stop", "r-live"], { env: env() });
    expect(code).toBe(0);
    expect(stdout).toContain("stop requested for r-live (was running)");
    const stop = await readStop(redis, prefix, { runId: "r-live" });
    expect(stop).toMatchObject({ runId: "r-live", by: "operator", reason: "operator" });
  });

  it("leaves an ended run alone and says so", async () => {
    const { code, stdout } = await runForgehand(["stop", "r-old"], { env: env() });
    expect(code).toBe(0);
    expect(stdout).toContain("run r-old already ended (succeeded); nothing to stop");
    expect(await readStop(redis, prefix, { runId: "r-old" })).toBeNull();
  });

  it("exits 1 for an unknown run id, and 2 without one", async () => {
    const unknown = await runForgehand(["stop", "r-nope"], { env: env() });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no run `r-nope`");
    const missing = await runForgehand(["stop"], { env: env() });
    expect(missing.code).toBe(2);
  });
});
