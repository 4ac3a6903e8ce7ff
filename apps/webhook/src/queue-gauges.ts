import { COMMAND_QUEUE, createRunStore, leaseKey, STAGE_QUEUE } from "@forgehand/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { Gauge, type Registry } from "prom-client";

const QUEUES = [STAGE_QUEUE, COMMAND_QUEUE] as const;

function gauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  collect: (g: Gauge) => Promise<void>,
) {
  // createApp may run twice on one registry (tests): replace the old gauge, whose collect holds an old Redis.
  registry.removeSingleMetric(name);
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      // A Redis outage at scrape time yields empty series, never a failed scrape.
      await collect(this).catch(() => {});
    },
  });
}

/**
 * What an operator graphs first, read from Redis at scrape time so every webhook instance serves
 * the same numbers: jobs per queue and state, the oldest waiting job's age, running agents per
 * runner (active stage jobs by the runner their run record names), and issue leases held.
 */
export function registerQueueGauges(registry: Registry, redis: Redis, prefix: string, now = () => Date.now()): void {
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: redis, prefix });
      q.on("error", () => {});
      queues.set(name, q);
    }
    return q;
  };
  gauge(
    registry,
    "forgehand_queue_jobs",
    "Jobs per queue and state (waiting, delayed, active)",
    ["queue", "state"],
    async (g) => {
      for (const name of QUEUES) {
        const c = await queue(name).getJobCounts("wait", "prioritized", "paused", "delayed", "active");
        g.set({ queue: name, state: "waiting" }, (c.wait ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0));
        g.set({ queue: name, state: "delayed" }, c.delayed ?? 0);
        g.set({ queue: name, state: "active" }, c.active ?? 0);
      }
    },
  );
  gauge(
    registry,
    "forgehand_queue_oldest_waiting_seconds",
    "Age of the oldest job waiting to be picked up, per queue (0 when none waits)",
    ["queue"],
    async (g) => {
      for (const name of QUEUES) {
        const [oldest] = await queue(name).getJobs(["wait", "prioritized"], 0, 0, true);
        g.set({ queue: name }, oldest?.timestamp ? Math.max(0, (now() - oldest.timestamp) / 1000) : 0);
      }
    },
  );
  const store = createRunStore(redis, prefix);
  gauge(registry, "forgehand_running_agents", "Stage runs in progress, per runner", ["runner"], async (g) => {
    const active = await queue(STAGE_QUEUE).getJobs(["active"], 0, 999);
    const perRunner = new Map<string, number>();
    for (const job of active) {
      const record = job.id ? await store.get(job.id) : null;
      const runner = record?.runner ?? "unknown";
      perRunner.set(runner, (perRunner.get(runner) ?? 0) + 1);
    }
    for (const [runner, n] of perRunner) g.set({ runner }, n);
  });
  gauge(registry, "forgehand_leases_held", "Issues whose per-issue lease is held by a runner", [], async (g) => {
    let count = 0;
    let cursor = "0";
    const match = leaseKey(prefix, "*");
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", match, "COUNT", 500);
      cursor = next;
      count += keys.length;
    } while (cursor !== "0");
    g.set(count);
  });
}
