// Child entry for figures 2 and 3: forgehand as `forgehand start` runs it — the webhook app
// (served by @hono/node-server) and a runner in one process — against an in-memory forge and a
// local bare origin. Options arrive as JSON in BENCH_SERVER_OPTIONS; prints {"port": N} when ready.

import { createLogger, silentLogger } from "@forgehand/core";
import { createForgeClients, type ForgeClients, WriteDeferredError } from "@forgehand/forge";
import { createRedis, createRedisWriteBudget } from "@forgehand/queue";
import { createRunner } from "@forgehand/runner";
import { createApp } from "@forgehand/webhook";
import { serve } from "@hono/node-server";
import { MemoryForge, memoryForges } from "../../apps/runner/src/testing/memory-forge";
import { onParentGone, report } from "../harness/child";
import { benchConfig } from "./bench-config";
import { BENCH_STAGE_LABEL } from "./github-payloads";
import { untilReady } from "./until-ready";

/** What the parent passes. */
export interface ServerOptions {
  redisUrl: string;
  prefix: string;
  secret: string;
  dataDir: string;
  command: string[];
  agentEnv: Record<string, string>;
  killGraceMs: number;
  /** Issues 1..issues exist on the in-memory forge. */
  issues: number;
  fullName: string;
  cloneUrl: string;
  /** `false`: the agent runs with `sandbox: { enabled: false }`. @defaultValue true */
  sandbox?: boolean;
  /**
   * A GitHub App on an emulated GitHub instead of the in-memory forge: real HTTP clients, one per installation,
   * every write through the write budget shared in Redis (as `forgehand start` runs a runner).
   */
  github?: { apiUrl: string; appId: number; privateKey: string; botLogin: string };
  /** `false`: no webhook server (a `--runner-only` process); still reports {"port": 0}. @defaultValue true */
  webhook?: boolean;
  /** `false`: no runner (a webhook-only process, which a crash storm never kills). @defaultValue true */
  runner?: boolean;
  /** Runner concurrency. @defaultValue 4 */
  concurrency?: number;
}

const BOT = "forgehand-bench[bot]";
// BENCH_DEBUG=1 shows the webhook and runner logs on stderr (the parent keeps the tail for its errors).
const logger = process.env.BENCH_DEBUG ? createLogger({ level: "debug", format: "json" }) : silentLogger;

async function main() {
  const o = JSON.parse(process.env.BENCH_SERVER_OPTIONS ?? "{}") as ServerOptions;
  // The runner's own in-memory forge: forge HTTP latency is not part of these figures (no network here).
  const forge = new MemoryForge("github");
  // Each bench delivery says the stage label was just added: the issues carry it, and keep it (a run checks
  // at start that its label is still on the issue; a real forge would hold the label each delivery added).
  for (let n = 1; n <= o.issues; n++)
    forge.addIssue({ number: n, title: `Bench issue ${n}`, body: "Fix it.", labels: [BENCH_STAGE_LABEL] });
  forge.removeLabel = async () => {};
  const forges = memoryForges(forge);
  const redis = createRedis(o.redisUrl, "webhook");
  await untilReady(redis);
  const forgesWithBot: ForgeClients = o.github
    ? createForgeClients({
        github: {
          apiUrl: o.github.apiUrl,
          appId: o.github.appId,
          privateKey: o.github.privateKey,
          botLogin: o.github.botLogin,
        },
        writeBudget: createRedisWriteBudget(redis, o.prefix, {
          onDeclined: (scope, waitMs) => new WriteDeferredError(scope, waitMs),
        }),
        logger,
      })
    : { for: (f, i) => forges.for(f, i), botLogin: () => BOT };
  const bot = forgesWithBot.botLogin("github") ?? BOT;
  const concurrency = o.concurrency ?? 4;
  const config = benchConfig({
    command: o.command,
    env: o.agentEnv,
    killGraceMs: o.killGraceMs,
    concurrency,
    sandbox: o.sandbox,
  });
  const app = createApp({
    config,
    redis,
    prefix: o.prefix,
    secrets: { github: o.secret },
    botLogins: { github: bot },
    logger,
  });
  const runner =
    o.runner === false
      ? undefined
      : createRunner({
          config,
          configDir: o.dataDir,
          redisUrl: o.redisUrl,
          prefix: o.prefix,
          forges: forgesWithBot,
          logger,
          dataDir: o.dataDir,
          concurrency,
        });
  await runner?.start();
  const server =
    o.webhook === false
      ? undefined
      : serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => report({ port: info.port }));
  if (!server) report({ port: 0 });
  const shutdown = async () => {
    server?.close();
    // Grace 0: running agents are stopped with the verified kill, so none outlives the bench.
    await runner?.close({ graceMs: 0 }).catch(() => {});
    redis.disconnect();
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  onParentGone(shutdown);
}

try {
  await main();
} catch (error) {
  report({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(0);
}
