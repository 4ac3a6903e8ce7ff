import { COMMAND_QUEUE, STAGE_QUEUE } from "@forgehand/queue";
import { Queue } from "bullmq";
import { Hono } from "hono";
import { Registry } from "prom-client";
import { BodyBudget, DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_IN_FLIGHT_BYTES } from "./body-budget";
import { connectionHealth } from "./connection-health";
import { handleDelivery } from "./handle-delivery";
import { unreadNodeBody } from "./read-node-body";
import type { WebhookDeps } from "./webhook-deps";
import { createWebhookMetrics } from "./webhook-metrics";

/** Builds the webhook Hono app: deliveries, health, readiness, metrics, and the optional /api sub-app. */
export function createApp(deps: WebhookDeps): Hono {
  const registry = deps.registry ?? new Registry();
  const metrics = createWebhookMetrics(registry, deps.redis, deps.prefix);
  const queueLog = deps.logger.child({ component: "queue" });
  const queue = (name: string) => {
    const q = new Queue(name, { connection: deps.redis, prefix: deps.prefix });
    // An EventEmitter 'error' without a listener would crash the process on a Redis blip.
    q.on("error", (error) => queueLog.warn("queue connection error", { queue: name, error: error.message }));
    return q;
  };
  const ctx = {
    deps,
    metrics,
    budget: new BodyBudget(deps.config.webhook?.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES),
    bodyTimeoutMs: deps.config.webhook?.bodyTimeout ?? DEFAULT_BODY_TIMEOUT_MS,
    target: {
      redis: deps.redis,
      prefix: deps.prefix,
      stageQueue: queue(STAGE_QUEUE),
      commandQueue: queue(COMMAND_QUEUE),
    },
  };
  const app = new Hono();
  // Under @hono/node-server `c.env.incoming` is Node's request: its body is read directly.
  app.post("/webhooks/github", (c) => handleDelivery(ctx, "github", c.req.raw, unreadNodeBody(c.env)));
  app.post("/webhooks/gitea", (c) => handleDelivery(ctx, "gitea", c.req.raw, unreadNodeBody(c.env)));
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", async (c) => {
    const connections = await connectionHealth({
      webhook: deps.redis,
      "stage-queue": ctx.target.stageQueue,
      "command-queue": ctx.target.commandQueue,
    });
    const down = Object.entries(connections).filter(([, h]) => h.status !== "ok");
    return c.json(
      {
        redis: down.length ? "unavailable" : "ok",
        ...(down.length ? { down: down.map(([n]) => n) } : {}),
        connections,
      },
      down.length ? 503 : 200,
    );
  });
  app.get("/metrics", async (c) => {
    c.header("content-type", registry.contentType);
    return c.body(await registry.metrics());
  });
  if (deps.api) app.route("/api", deps.api);
  if (deps.pages) app.route("/", deps.pages);
  app.onError((error, c) => {
    // Never crash on a delivery: log what broke and answer 500 (the forge shows a failed delivery).
    deps.logger.error("unhandled error", { path: c.req.path, error });
    return c.json({ error: "[webhook] internal error" }, 500);
  });
  return app;
}
