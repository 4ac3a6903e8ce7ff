import type { Hono } from "hono";
import type { Redis } from "ioredis";
import { testRedis, testRedisUrl, uniquePrefix } from "../../../../test/helpers/redis";
import { createApp } from "../create-app";
import type { WebhookDeps } from "../webhook-deps";
import { QueueProbe, testDeps } from "./delivery-fixtures";

export interface WebhookHarness {
  deps: WebhookDeps;
  app: Hono;
  probe: QueueProbe;
  /** A second client on the same Redis, for reading back what the app wrote. */
  plain: Redis;
  prefix: string;
  close(): Promise<void>;
}

/** The webhook app on the shared test Redis under a fresh prefix, with a probe on its queues. */
export async function openWebhookHarness(name: string): Promise<WebhookHarness> {
  const prefix = uniquePrefix(name);
  const deps = await testDeps(testRedisUrl(), prefix);
  const app = createApp(deps);
  const plain = testRedis();
  const probe = new QueueProbe(plain, prefix);
  const close = async () => {
    await probe.close();
    deps.redis.disconnect();
    plain.disconnect();
  };
  return { deps, app, probe, plain, prefix, close };
}
