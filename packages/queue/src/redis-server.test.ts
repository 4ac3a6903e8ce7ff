import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { alive } from "../../../test/helpers/alive";
import { pingRedis, type RedisServerHandle, startRedisServer } from "./redis-server";

const started: RedisServerHandle[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

describe("startRedisServer", () => {
  it("starts a private server with AOF on and stops it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fh-redis-"));
    const server = await startRedisServer({ dataDir: dir });
    started.push(server);
    expect(await pingRedis(server.port)).toBe(true);
    expect(readFileSync(join(dir, "redis.pid"), "utf8").trim()).toBe(String(server.pid));
    await server.stop();
    expect(alive(server.pid)).toBe(false);
    expect(await pingRedis(server.port)).toBe(false);
  });

  it("handles a stale pid file and a redis-server left running by a crashed start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fh-redis-"));
    writeFileSync(join(dir, "redis.pid"), "999999\n");
    const first = await startRedisServer({ dataDir: dir });
    // Simulate a crash: the parent forgets the child, its pid file stays.
    const notes: string[] = [];
    const second = await startRedisServer({ dataDir: dir, onNote: (n) => notes.push(n) });
    started.push(second);
    expect(notes.join("\n")).toMatch(`stopping redis-server pid ${first.pid}`);
    expect(alive(first.pid)).toBe(false);
    expect(await pingRedis(second.port)).toBe(true);
  });

  it("moves to a free port when the configured one is taken by another Redis", async () => {
    const a = await startRedisServer({ dataDir: mkdtempSync(join(tmpdir(), "fh-redis-")), persistence: false });
    started.push(a);
    const notes: string[] = [];
    const b = await startRedisServer({
      dataDir: mkdtempSync(join(tmpdir(), "fh-redis-")),
      port: a.port,
      onNote: (n) => notes.push(n),
    });
    started.push(b);
    expect(b.port).not.toBe(a.port);
    expect(notes[0]).toMatch(/already taken/);
  });

  it("says how to install redis-server when the binary is missing", async () => {
    await expect(
      startRedisServer({ dataDir: mkdtempSync(join(tmpdir(), "fh-redis-")), binary: "redis-server-does-not-exist" }),
    ).rejects.toThrow(/was not found\. Install it/);
  });
});
