import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { inject } from "vitest";

/** URL of the shared test redis-server started by global-setup. */
export function testRedisUrl(): string {
  return inject("redisUrl");
}

/** A fresh prefix so tests sharing one Redis never see each other's keys or queues. */
export function uniquePrefix(name = "t"): string {
  return `fhtest:${name}:${randomUUID().slice(0, 8)}`;
}

/** A plain client on the shared test Redis; close it in afterEach/afterAll. */
export function testRedis(): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
}
