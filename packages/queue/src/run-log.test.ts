import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RedisServerHandle, startRedisServer } from "./redis-server";
import { createRunLogWriter, openRunLogTail, readRunLog, runLogKey } from "./run-log";

// A private server: command counts and connection counts must not include other tests' traffic.
let server: RedisServerHandle;
let dir: string;
let redis: Redis;

async function calls(command: string): Promise<number> {
  const info = await redis.info("commandstats");
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

async function stat(name: string): Promise<number> {
  const info = await redis.info();
  return Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1]);
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

describe("run log tail", () => {
  it("reads many times over one connection and closes it, ending a read in flight", async () => {
    const before = await stat("total_connections_received");
    const clients = await stat("connected_clients");
    const tail = openRunLogTail(redis, "p3", "t");
    const append = createRunLogWriter(redis, "p3");
    let after = "0";
    for (let i = 0; i < 8; i++) {
      if (i % 2 === 0) await append("t", "stdout", `n${i}`);
      const got = await tail.read(after, 100);
      after = got.at(-1)?.id ?? after;
      expect(got.map((e) => e.line)).toEqual(i % 2 === 0 ? [`n${i}`] : []);
    }
    expect((await stat("total_connections_received")) - before).toBe(1);
    const pending = tail.read(after, 30_000);
    await sleep(50);
    tail.close();
    expect(await pending).toEqual([]);
    for (let i = 0; i < 100 && (await stat("connected_clients")) !== clients; i++) await sleep(50);
    expect(await stat("connected_clients")).toBe(clients);
    expect(await tail.read(after, 100)).toEqual([]);
  });
});
