import { type RunMetrics, readRunMetrics } from "@forgehand/queue";
import type { Redis } from "ioredis";
import { Counter, type Metric, type Registry } from "prom-client";
import { registerQueueGauges } from "./queue-gauges";

/** Outcome label of a delivery, one per HTTP answer kind. */
export type DeliveryOutcome =
  | "accepted"
  | "duplicate"
  | "ignored"
  | "bad_request"
  | "unauthorized"
  | "too_large"
  | "busy"
  | "timeout"
  | "unavailable";

/** Counters the webhook updates on its hot path. */
export interface WebhookMetrics {
  delivery(forge: string, outcome: DeliveryOutcome): void;
  enqueued(kind: "stage" | "command" | "stop", n: number): void;
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  // createApp may run twice on one registry (tests, hot reload): reuse instead of a duplicate-name throw.
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<string>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

type Sample = { value: number; labels?: Record<string, string | number>; metricName?: string };

/**
 * A metric read from Redis at scrape time: the runners write run metrics into Redis
 * (shared-metrics.ts), so every webhook instance serves the same numbers.
 */
function redisBacked(
  name: string,
  help: string,
  type: "counter" | "histogram" | "gauge",
  samples: (m: RunMetrics) => Sample[],
  read: () => Promise<RunMetrics | null>,
) {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum",
    async get() {
      const m = await read();
      return { name, help, type, aggregator: "sum", values: m ? samples(m) : [] };
    },
    reset() {},
  };
  return metric;
}

/** Registers the webhook's counters and the Redis-backed run metrics on a registry. */
export function createWebhookMetrics(registry: Registry, redis: Redis, prefix: string): WebhookMetrics {
  const deliveries = counter(
    registry,
    "forgehand_webhook_deliveries_total",
    "Webhook deliveries by forge and outcome",
    ["forge", "outcome"],
  );
  const jobs = counter(registry, "forgehand_jobs_enqueued_total", "Jobs and stop requests enqueued by the webhook", [
    "kind",
  ]);
  // One HGETALL per scrape, shared by the four run metrics; a Redis outage yields empty series, not a 500.
  let pending: Promise<RunMetrics | null> | undefined;
  const read = () => {
    pending ??= readRunMetrics(redis, prefix)
      .catch(() => null)
      .finally(() => setTimeout(() => (pending = undefined), 0));
    return pending;
  };
  const runMetrics = [
    redisBacked(
      "forgehand_runs_total",
      "Finished runs by terminal state",
      "counter",
      (m) => Object.entries(m.runs).map(([state, value]) => ({ value, labels: { state } })),
      read,
    ),
    redisBacked(
      "forgehand_kill_latency_seconds",
      "Time from the first kill signal to every process verified gone",
      "histogram",
      (m) => [
        ...m.killLatency.buckets.map((b) => ({
          metricName: "forgehand_kill_latency_seconds_bucket",
          value: b.count,
          labels: { le: b.le === Number.POSITIVE_INFINITY ? "+Inf" : b.le },
        })),
        { metricName: "forgehand_kill_latency_seconds_sum", value: m.killLatency.sumSeconds },
        { metricName: "forgehand_kill_latency_seconds_count", value: m.killLatency.count },
      ],
      read,
    ),
    redisBacked(
      "forgehand_watchdog_terminations_total",
      "Runs ended by a watchdog limit, by reason",
      "counter",
      (m) => Object.entries(m.watchdog).map(([reason, value]) => ({ value, labels: { reason } })),
      read,
    ),
    redisBacked(
      "forgehand_trigger_denied_total",
      "Stage triggers refused because the sender lacked permission, by trigger kind",
      "counter",
      (m) => Object.entries(m.deniedTriggers ?? {}).map(([kind, value]) => ({ value, labels: { kind } })),
      read,
    ),
    redisBacked(
      "forgehand_spend_usd",
      "USD spent today (UTC day) per repository, counted live across all runners (budgets ledger)",
      "gauge",
      (m) =>
        Object.entries(m.spend?.repos ?? {}).map(([repo, value]) => ({ value, labels: { repo, day: m.spend.day } })),
      read,
    ),
    redisBacked(
      "forgehand_spend_installation_usd",
      "USD spent today (UTC day) by every repository together",
      "gauge",
      (m) => (m.spend ? [{ value: m.spend.totalUsd, labels: { day: m.spend.day } }] : []),
      read,
    ),
    redisBacked(
      "forgehand_sandbox_denied_connections_total",
      "Egress connections the agents' sandbox allowlist refused, summed over runs",
      "counter",
      (m) => [{ value: m.sandboxDenied ?? 0 }],
      read,
    ),
    redisBacked(
      "forgehand_kill_survivors_total",
      "Processes still alive after SIGKILL, summed over runs",
      "counter",
      (m) => [{ value: m.survivors }],
      read,
    ),
  ];
  for (const metric of runMetrics) {
    registry.removeSingleMetric(metric.name);
    registry.registerMetric(metric as unknown as Metric);
  }
  registerQueueGauges(registry, redis, prefix);
  return {
    delivery: (forge, outcome) => deliveries.inc({ forge, outcome }),
    enqueued: (kind, n) => {
      if (n > 0) jobs.inc({ kind }, n);
    },
  };
}
