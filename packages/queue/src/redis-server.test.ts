import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
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

  it("with a password: requires it (NOAUTH without), keeps it out of argv, in a 0600 redis.conf", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fh-redis-"));
    const password = "p4ssw0rd-for-the-test_0123456789";
    const server = await startRedisServer({ dataDir: dir, persistence: false, password });
    started.push(server);
    expect(server.url).toBe(`redis://:${password}@127.0.0.1:${server.port}`);
    expect(await pingRedis(server.port)).toBe(false);
    expect(await pingRedis(server.port, "127.0.0.1", 500, password)).toBe(true);
    const anon = new Redis(`redis://127.0.0.1:${server.port}`, {
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
    });
    anon.on("error", () => {});
    await anon.connect();
    await expect(anon.get("k")).rejects.toThrow(/NOAUTH/);
    anon.disconnect();
    const authed = new Redis(server.url, { maxRetriesPerRequest: 0 });
    expect(await authed.ping()).toBe("PONG");
    authed.disconnect();
    // /proc/<pid>/cmdline is world-readable: the password must not be in it.
    expect(readFileSync(`/proc/${server.pid}/cmdline`, "utf8")).not.toContain(password);
    expect(statSync(join(dir, "redis.conf")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it("refuses a password that could break out of redis.conf", async () => {
    await expect(
      startRedisServer({ dataDir: mkdtempSync(join(tmpdir(), "fh-redis-")), password: "short\nrename-command x" }),
    ).rejects.toThrow(/16-256 characters/);
  });
});
