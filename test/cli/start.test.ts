import { existsSync, readFileSync, statSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createRedis, freePort } from "@forgehand/queue";
import { describe, expect, it } from "vitest";
import { alive } from "../helpers/alive";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { cleanEnv, runForgehand, spawnForgehand, tempDir } from "./run-forgehand";

async function poll<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const status = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => r.status,
    () => undefined,
  );

describe("forgehand start without REDIS_URL", () => {
  it("brings up an embedded Redis, answers /healthz and /readyz, and leaves no redis-server after SIGINT", async () => {
    const dir = tempDir("start");
    const dataDir = join(dir, "data");
    const port = await freePort();
    const child = spawnForgehand(["start", "--port", String(port)], {
      cwd: dir,
      env: cleanEnv({ FORGEHAND_DATA_DIR: dataDir }),
    });
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    let redisPid = 0;
    try {
      const pidFile = join(dataDir, "redis", "redis.pid");
      redisPid = await poll(
        "the embedded redis pid file",
        () => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) || undefined : undefined),
        30_000,
      );
      expect(alive(redisPid)).toBe(true);
      expect(await poll("GET /healthz", () => status(`http://127.0.0.1:${port}/healthz`), 30_000)).toBe(200);
      expect(
        await poll(
          "GET /readyz 200",
          async () => ((await status(`http://127.0.0.1:${port}/readyz`)) === 200 ? 200 : undefined),
          30_000,
        ),
      ).toBe(200);
      expect(stderr).toContain("using the example configuration");
      // The log names the address really bound: by default every interface, not "127.0.0.1".
      const up = await poll(
        "the startup line",
        () => stderr.split("\n").find((l) => l.includes("forgehand is up")),
        30_000,
      );
      expect(up).toContain(`0.0.0.0:${port} (every interface)`);
      expect(stderr).toMatch(/embedded redis started.*redis:\/\/:\[REDACTED\]@127\.0\.0\.1:\d+/);
      // AOF on, as promised for the embedded default.
      const url = readFileSync(join(dataDir, "redis", "url"), "utf8").trim();
      expect(url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      // A generated password, kept 0600, never in the log or the server's world-readable argv.
      const passwordFile = join(dataDir, "redis", "password");
      const password = readFileSync(passwordFile, "utf8").trim();
      expect(password).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(dataDir, "redis")).mode & 0o777).toBe(0o700);
      expect(stderr).not.toContain(password);
      expect(readFileSync(`/proc/${redisPid}/cmdline`, "utf8")).not.toContain(password);
      // Any other local process (an agent) without it is refused.
      const anon = createRedis(url, "client", {
        lazyConnect: true,
        enableReadyCheck: false,
        retryStrategy: () => null,
      });
      anon.on("error", () => {});
      await anon.connect();
      await expect(anon.get("x")).rejects.toThrow(/NOAUTH/);
      anon.disconnect();
      // The CLI's commands find the embedded Redis and its password from the data dir.
      const runs = await runForgehand(["runs"], { env: cleanEnv({ FORGEHAND_DATA_DIR: dataDir }), cwd: dir });
      expect(runs.code, runs.stderr).toBe(0);
      expect(runs.stdout + runs.stderr).not.toContain(password);
      const doctor = await runForgehand(["doctor"], { env: cleanEnv({ FORGEHAND_DATA_DIR: dataDir }), cwd: dir });
      expect(doctor.stdout).toMatch(/redis:\/\/:\[REDACTED\]@127\.0\.0\.1:\d+ \(embedded/);
      expect(doctor.stdout + doctor.stderr).not.toContain(password);
    } catch (error) {
      child.kill("SIGKILL");
      if (redisPid && alive(redisPid)) process.kill(redisPid, "SIGKILL");
      throw new Error(`${(error as Error).message}\n--- forgehand stderr ---\n${stderr}`);
    }
    child.kill("SIGINT");
    const code = await Promise.race([exited, sleep(45_000).then(() => "timeout" as const)]);
    if (code === "timeout") child.kill("SIGKILL");
    expect(code, stderr).toBe(0);
    await poll("redis-server to exit", () => (alive(redisPid) ? undefined : true), 15_000);
    expect(alive(redisPid)).toBe(false);
    expect(existsSync(join(dataDir, "redis", "url"))).toBe(false);
    expect(existsSync(join(dataDir, "redis", "appendonlydir"))).toBe(true);
  }, 120_000);

  it("after a crash (forgehand SIGKILLed), the next start on the same data dir takes over the stale redis-server", async () => {
    const dir = tempDir("restart");
    const env = cleanEnv({ FORGEHAND_DATA_DIR: join(dir, "data") });
    const pidFile = join(dir, "data", "redis", "redis.pid");
    const readPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) || undefined : undefined);
    const first = spawnForgehand(["start", "--port", String(await freePort())], { cwd: dir, env });
    const firstExit = new Promise((r) => first.on("exit", r));
    const stalePid = await poll("the first redis pid", readPid, 30_000);
    const passwordFile = join(dir, "data", "redis", "password");
    const password = readFileSync(passwordFile, "utf8");
    first.kill("SIGKILL");
    await firstExit;
    // SIGKILL gives forgehand no chance to clean up: its redis-server is left running.
    expect(alive(stalePid)).toBe(true);
    const port = await freePort();
    const second = spawnForgehand(["start", "--port", String(port)], { cwd: dir, env });
    let stderr = "";
    second.stderr?.on("data", (d) => {
      stderr += d;
    });
    const secondExit = new Promise<number | null>((r) => second.on("exit", (code) => r(code)));
    try {
      const freshPid = await poll("a new redis pid", () => (readPid() !== stalePid ? readPid() : undefined), 30_000);
      expect(
        await poll(
          "GET /readyz 200",
          async () => ((await status(`http://127.0.0.1:${port}/readyz`)) === 200 ? 200 : undefined),
          30_000,
        ),
      ).toBe(200);
      expect(alive(stalePid)).toBe(false);
      expect(stderr).toContain(`stopping redis-server pid ${stalePid} left by an earlier start`);
      // The restart reuses the password (clients holding it, e.g. a `forgehand runs` in another shell, keep working).
      expect(readFileSync(passwordFile, "utf8")).toBe(password);
      second.kill("SIGINT");
      expect(await secondExit).toBe(0);
      await poll("redis-server to exit", () => (alive(freshPid) ? undefined : true), 15_000);
    } finally {
      second.kill("SIGKILL");
      if (alive(stalePid)) process.kill(stalePid, "SIGKILL");
    }
  }, 120_000);

  it("with REDIS_URL set, uses that Redis and starts none", async () => {
    const dir = tempDir("start-url");
    const port = await freePort();
    const child = spawnForgehand(["start", "--port", String(port)], {
      cwd: dir,
      env: cleanEnv({
        FORGEHAND_DATA_DIR: join(dir, "data"),
        REDIS_URL: testRedisUrl(),
        FORGEHAND_PREFIX: uniquePrefix("start"),
        HOST: "127.0.0.1",
      }),
    });
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      expect(
        await poll(
          "GET /readyz 200",
          async () => ((await status(`http://127.0.0.1:${port}/readyz`)) === 200 ? 200 : undefined),
          30_000,
        ),
      ).toBe(200);
      expect(stderr).toContain("using redis");
      expect(stderr).not.toContain("embedded redis started");
      // HOST chooses the bind address, and the log says so.
      const up = await poll(
        "the startup line",
        () => stderr.split("\n").find((l) => l.includes("forgehand is up")),
        30_000,
      );
      expect(up).toContain(`127.0.0.1:${port}`);
      expect(up).not.toContain("every interface");
      expect(existsSync(join(dir, "data", "redis"))).toBe(false);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 120_000);

  it("a start that fails after Redis is up (port taken) stops its redis-server and exits 1", async () => {
    const dir = tempDir("start-busy");
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "0.0.0.0", r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const child = spawnForgehand(["start", "--port", String(port)], {
        cwd: dir,
        env: cleanEnv({ FORGEHAND_DATA_DIR: join(dir, "data") }),
      });
      let stderr = "";
      child.stderr?.on("data", (d) => {
        stderr += d;
      });
      // "close" (stderr drained), not "exit": the error is printed just before the process ends.
      const code = await new Promise((r) => child.on("close", r));
      expect(code).toBe(1);
      expect(stderr).toContain("EADDRINUSE");
      const pid = Number(stderr.match(/embedded redis started.*"pid":(\d+)/)?.[1]);
      expect(pid).toBeGreaterThan(0);
      await poll("redis-server to exit", () => (alive(pid) ? undefined : true), 15_000);
    } finally {
      blocker.close();
    }
  }, 120_000);
});
