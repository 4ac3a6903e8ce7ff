import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServerHandle, startRedisServer } from "@forgehand/queue";
import type { TestProject } from "vitest/node";
import { type ClusterHandle, startRedisCluster } from "./redis-cluster";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let server: RedisServerHandle | ClusterHandle | undefined;
let dir: string | undefined;

/**
 * Starts one real redis-server on a free port for the whole test run and stops it afterwards.
 * `FORGEHAND_TEST_REDIS=cluster`: a real 3-primary Redis Cluster instead (`npm run test:cluster`).
 */
export async function setup(project: TestProject) {
  dir = mkdtempSync(join(tmpdir(), "forgehand-test-redis-"));
  server =
    process.env.FORGEHAND_TEST_REDIS === "cluster"
      ? await startRedisCluster()
      : await startRedisServer({ dataDir: dir, persistence: false });
  project.provide("redisUrl", server.url);
  process.env.FORGEHAND_TEST_REDIS_URL = server.url;
}

export async function teardown() {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
