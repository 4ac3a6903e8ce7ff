import { join } from "node:path";
import { type Config, silentLogger } from "@forgehand/core";
import { testRedisUrl } from "../../../../test/helpers/redis";
import { createRunner, type Runner } from "../create-runner";
import { type MemoryForge, memoryForges } from "./memory-forge";

/**
 * A runner with real git workspaces under `<dir>/data`, on the test Redis and a MemoryForge: for tests
 * about what reaches the origin (gate, push, PR). Not started; the caller starts and closes it.
 */
export function gitTestRunner(o: {
  config: Config;
  dir: string;
  prefix: string;
  forge: MemoryForge;
  runnerId: string;
}): Runner {
  return createRunner({
    config: o.config,
    configDir: o.dir,
    redisUrl: testRedisUrl(),
    prefix: o.prefix,
    forges: memoryForges(o.forge),
    logger: silentLogger,
    dataDir: join(o.dir, "data"),
    runnerId: o.runnerId,
    env: { PATH: process.env.PATH, HOME: o.dir },
    timings: { stopPollMs: 200, progressIntervalMs: 100 },
  });
}
