import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "./redis-server";
import { createRunLogWriter, readRunLog, runLogKey } from "./run-log";

// A private server: command counts must not include other tests' traffic.
let server: RedisServerHandle;
let dir: string;
let redis: Redis;

async function calls(command: string): Promise<number> {
  const info = await redis.info("commandstats");
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fh-runlog-"));
  server = await startRedisServer({ dataDir: dir, persistence: false });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  await redis.quit();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await redis.config("RESETSTAT");
});

describe("run log writer", () => {
  it("writes every line in order but sets the TTL once per run, not once per line", async () => {
    const append = createRunLogWriter(redis, "p1");
    // Fire-and-forget like the runner's onLog: no await between lines.
    const writes: Promise<string>[] = [];
    for (let i = 0; i < 300; i++) for (const run of ["a", "b"]) writes.push(append(run, "stdout", `${run}${i}`));
    await Promise.all(writes);
    for (const run of ["a", "b"]) {
      const lines = (await readRunLog(redis, "p1", run)).map((e) => e.line);
      expect(lines).toEqual(Array.from({ length: 300 }, (_, i) => `${run}${i}`));
      // Set from the first line: ~30 days, never "no TTL" (-1).
      expect(await redis.ttl(runLogKey("p1", run))).toBeGreaterThan(29 * 24 * 3600);
    }
    expect(await calls("xadd")).toBe(600);
    expect(await calls("expire")).toBe(2);
  });

  it("refreshes the TTL again once the refresh interval has passed", async () => {
    const append = createRunLogWriter(redis, "p2", { refreshMs: 200 });
    for (let i = 0; i < 20; i++) await append("r", "stdout", `x${i}`);
    expect(await calls("expire")).toBe(1);
    await redis.persist(runLogKey("p2", "r"));
    await sleep(300);
    await append("r", "stdout", "later");
    expect(await calls("expire")).toBe(2);
    expect(await redis.ttl(runLogKey("p2", "r"))).toBeGreaterThan(0);
  });
});
