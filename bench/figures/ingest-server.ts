// Child entry for figure 1: serves either forgehand's webhook app or a bare Hono route with
// @hono/node-server, on 127.0.0.1, and prints {"port": N} once listening. Runs in its own
// process so the load generator (autocannon, in the parent) never shares its event loop.

import { silentLogger } from "@forgehand/core";
import { createRedis } from "@forgehand/queue";
import { createApp } from "@forgehand/webhook";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { onParentGone, report } from "../harness/child";
import { benchConfig } from "./bench-config";
import { untilReady } from "./until-ready";

const [mode, redisUrl = "", secret = "", prefix = "forgehand-bench"] = process.argv.slice(2);

/** The baseline: the same server stack, a route that only reads the body and answers 202. */
function bareApp(): Hono {
  const app = new Hono();
  app.post("/webhooks/github", async (c) => {
    await c.req.arrayBuffer();
    return c.json({ accepted: true }, 202);
  });
  return app;
}

async function forgehandApp(): Promise<Hono> {
  const redis = createRedis(redisUrl, "webhook");
  await untilReady(redis);
  return createApp({
    config: benchConfig(),
    redis,
    prefix,
    secrets: { github: secret },
    botLogins: { github: "forgehand-bench[bot]" },
    logger: silentLogger,
  });
}

try {
  const app = mode === "bare" ? bareApp() : await forgehandApp();
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => report({ port: info.port }));
  process.on("SIGTERM", () => process.exit(0));
  onParentGone(() => {
    server.close();
  });
} catch (error) {
  report({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(0);
}
