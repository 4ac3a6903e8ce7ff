import type { Config, Logger } from "@forgehand/core";
import type { Hono } from "hono";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";

/** Everything the webhook app needs; `main.ts`/the CLI builds it, tests inject their own. */
export interface WebhookDeps {
  config: Config;
  /** ioredis from `createRedis(url, "webhook")`: fails fast when Redis is down, so deliveries get a quick 503. */
  redis: Redis;
  /** Redis key and BullMQ prefix. @defaultValue "forgehand" (chosen by the caller) */
  prefix: string;
  /** Webhook secrets; a forge with no secret gets 401 for every delivery. */
  secrets: { github?: string; gitea?: string };
  /** forgehand's own login per forge: its comments and label removals are ignored (no loops). */
  botLogins: { github?: string; gitea?: string };
  logger: Logger;
  /** Sub-app mounted at /api (the runs API). */
  api?: Hono;
  /** Sub-app mounted at / (the run pages: /runs, /runs/:id, /login). */
  pages?: Hono;
  /** prom-client registry served on /metrics; a fresh one when absent. */
  registry?: Registry;
}
