import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { RunRecord } from "@forgehand/core";
import { createRunStore, freePort } from "@forgehand/queue";
import { describe, expect, it } from "vitest";
import { testRedis, testRedisUrl, uniquePrefix } from "../helpers/redis";
import { cleanEnv, spawnForgehand, tempDir } from "./run-forgehand";

describe("the runs API through forgehand start", { timeout: 120_000 }, () => {
  it("serves /api/runs with the bearer FORGEHAND_API_TOKEN and refuses without it", async () => {
    const prefix = uniquePrefix("cli-api");
    const redis = testRedis();
    const run: RunRecord = {
      id: "r-api",
      forge: "gitea",
      repo: "o/r",
      issue: 4,
      isPr: false,
      stage: "review",
      state: "running",
      createdAt: Date.now(),
      turns: 1,
      costUsd: 0,
      attempts: 0,
      lastActions: [],
    };
    await createRunStore(redis, prefix).create(run);
    const dir = tempDir("api");
    const port = await freePort();
    const child = spawnForgehand(["start", "--port", String(port)], {
      cwd: dir,
      env: cleanEnv({
        REDIS_URL: testRedisUrl(),
        FORGEHAND_PREFIX: prefix,
        FORGEHAND_DATA_DIR: join(dir, "data"),
        FORGEHAND_API_TOKEN: "tok",
      }),
    });
    const exited = new Promise((r) => child.on("exit", r));
    try {
      const url = `http://127.0.0.1:${port}/api/runs`;
      let res: Response | undefined;
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
        res = await fetch(url, { headers: { authorization: "Bearer tok" } }).catch(() => undefined);
        if (res) break;
      }
      expect(res?.status).toBe(200);
      expect(JSON.stringify(await res!.json())).toContain('"r-api"');
      expect((await fetch(url)).status).toBe(401);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await redis.quit();
    }
  });
});
