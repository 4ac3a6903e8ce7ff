import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServerHandle, startRedisServer } from "@forgehand/queue";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let server: RedisServerHandle | undefined;
let dir: string | undefined;

/** Starts one real redis-server on a free port for the whole test run and stops it afterwards. */
export async function setup(project: TestProject) {
  dir = mkdtempSync(join(tmpdir(), "forgehand-test-redis-"));
  server = await startRedisServer({ dataDir: dir, persistence: false });
  project.provide("redisUrl", server.url);
  process.env.FORGEHAND_TEST_REDIS_URL = server.url;
}

export async function teardown() {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
