import { randomUUID } from "node:crypto";
import { createRedis } from "@forgehand/queue";
import type { Redis } from "ioredis";
import { inject } from "vitest";

/** URL of the shared test redis-server started by global-setup. */
export function testRedisUrl(): string {
  return inject("redisUrl");
}

/**
 * A fresh prefix so tests sharing one Redis never see each other's keys or queues. Against a Cluster it is a
 * `{hash-tag}`, as forgehand's own prefix is there: every key of a script or MULTI must live in one slot.
 */
export function uniquePrefix(name = "t"): string {
  const prefix = `fhtest:${name}:${randomUUID().slice(0, 8)}`;
  return testRedisUrl().startsWith("redis+cluster:") ? `{${prefix}}` : prefix;
}

/** A plain client on the shared test Redis (a Cluster client under `FORGEHAND_TEST_REDIS=cluster`); close it after. */
export function testRedis(): Redis {
  return createRedis(testRedisUrl(), "worker");
}
