import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "@forgehand/queue";
import { describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { cleanEnv, spawnForgehand, tempDir } from "./run-forgehand";

/** Spawns a long-running command and resolves once `ready` appears in its stderr. */
async function startService(args: string[], env: Record<string, string>, ready: RegExp) {
  const child = spawnForgehand(args, { cwd: tempDir("svc"), env });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  // "close" (stdio drained), not "exit": the last log lines are asserted after the process ends.
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (!ready.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`forgehand ${args[0]} exited early:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`forgehand ${args[0]} not ready in 30 s:\n${stderr}`);
    }
    await sleep(100);
  }
  return { child, exited, stderr: () => stderr };
}

// The compose services: `webhook` and `runner` on one shared Redis, each stopping cleanly on SIGTERM.
describe("split services on a shared Redis", { timeout: 120_000 }, () => {
  it("forgehand webhook serves /readyz from REDIS_URL and exits 0 on SIGTERM", async () => {
    const dir = tempDir("svc-webhook");
    const port = await freePort();
    const env = cleanEnv({
      REDIS_URL: testRedisUrl(),
      FORGEHAND_PREFIX: uniquePrefix("svc"),
      FORGEHAND_DATA_DIR: join(dir, "d"),
    });
    const svc = await startService(["webhook", "--port", String(port)], env, /webhook listening/);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(res.status).toBe(200);
      expect(svc.stderr()).not.toContain("runner started");
      svc.child.kill("SIGTERM");
      expect(await svc.exited).toBe(0);
    } finally {
      svc.child.kill("SIGKILL");
    }
  });

  it("the webhook as compose runs it (a webhook secret, no forge token) knows the bot from FORGEHAND_GITHUB_LOGIN alone", async () => {
    const dir = tempDir("svc-login");
    const base = {
      REDIS_URL: testRedisUrl(),
      FORGEHAND_PREFIX: uniquePrefix("svc"),
      FORGEHAND_DATA_DIR: join(dir, "d"),
      GITHUB_WEBHOOK_SECRET: "s",
    };
    const unknown = await startService(["webhook", "--port", "0"], cleanEnv(base), /webhook listening/);
    unknown.child.kill("SIGTERM");
    await unknown.exited;
    expect(unknown.stderr()).toMatch(/the bot's own login is unknown.*FORGEHAND_GITHUB_LOGIN/);
    const known = await startService(
      ["webhook", "--port", "0"],
      cleanEnv({ ...base, FORGEHAND_GITHUB_LOGIN: "forgehand-test[bot]" }),
      /webhook listening/,
    );
    known.child.kill("SIGTERM");
    await known.exited;
    expect(known.stderr()).not.toContain("login is unknown");
  });

  it("forgehand runner --concurrency 2 starts a runner and exits 0 on SIGTERM", async () => {
    const dir = tempDir("svc-runner");
    const env = cleanEnv({
      REDIS_URL: testRedisUrl(),
      FORGEHAND_PREFIX: uniquePrefix("svc"),
      FORGEHAND_DATA_DIR: join(dir, "d"),
    });
    const svc = await startService(["runner", "--concurrency", "2"], env, /runner started/);
    try {
      expect(svc.stderr()).toMatch(/"runner started","concurrency":2/);
      svc.child.kill("SIGTERM");
      expect(await svc.exited, svc.stderr()).toBe(0);
      expect(svc.stderr()).toMatch(/"stopped","part":"runner"/);
    } finally {
      svc.child.kill("SIGKILL");
    }
  });

  it("rejects a bad --concurrency value, echoing it", async () => {
    const child = spawnForgehand(["runner", "--concurrency", "lots"], {
      cwd: tempDir("svc-bad"),
      env: cleanEnv({ REDIS_URL: testRedisUrl() }),
    });
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    const code = await new Promise((r) => child.on("close", r));
    expect(code).toBe(2);
    expect(stderr).toContain("--concurrency must be a positive integer, got `lots`");
  });
});
