import type { Redis } from "ioredis";
import { spendDayKey, utcDay } from "./spend-ledger";

/**
 * Run metrics live in Redis (one hash) rather than in a runner's memory, so that any webhook
 * instance can serve them on /metrics and they survive runner restarts.
 */
export function runMetricsKey(prefix: string): string {
  return `${prefix}:metrics:runs`;
}

/** Upper bounds (seconds) of the kill-latency histogram buckets; `+Inf` is implied. */
export const KILL_LATENCY_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** What a runner reports once per finished run. */
export interface RunEnd {
  /** Terminal run state (`succeeded`, `stopped`, `timed_out`, …). */
  state: string;
  /** Time from the first kill signal to "every process verified gone", in ms, when the run was killed. */
  killMs?: number;
  /** Processes that were still alive after SIGKILL (0 when the kill was clean). */
  survivors?: number;
  /** The watchdog limit that ended the run (`timeout`, `stall`, `turns`, `budget`). */
  watchdogReason?: string;
  /** Egress connections the sandbox's allowlist refused during the run. */
  deniedConnections?: number;
}

/** Aggregated run metrics as read back from Redis. */
export interface RunMetrics {
  runs: Record<string, number>;
  killLatency: {
    /** Cumulative counts per upper bound, Prometheus style (`le` = Infinity for the last). */
    buckets: { le: number; count: number }[];
    count: number;
    sumSeconds: number;
  };
  watchdog: Record<string, number>;
  survivors: number;
  /** Stage triggers refused because the sender lacked permission, by trigger kind (`label`, `command`, …). */
  deniedTriggers: Record<string, number>;
  /** Today's (UTC) spend in USD per repository (`forge:owner/name`) and in total, from the `budgets` ledger. */
  spend: { day: string; repos: Record<string, number>; totalUsd: number };
  /** Sandbox egress connections refused, summed over runs. */
  sandboxDenied: number;
}

function bucketFor(seconds: number): string {
  const le = KILL_LATENCY_BUCKETS_S.find((b) => seconds <= b);
  return le === undefined ? "+Inf" : String(le);
}

/** Records one finished run: a single MULTI of HINCRBYs, so concurrent runners never lose counts. */
export async function recordRunEnd(redis: Redis, prefix: string, end: RunEnd): Promise<void> {
  if (!end.state) throw new Error(`[metrics] recordRunEnd needs a state, got \`${String(end.state)}\``);
  const key = runMetricsKey(prefix);
  const multi = redis.multi().hincrby(key, `state:${end.state}`, 1);
  if (end.killMs !== undefined) {
    if (!Number.isFinite(end.killMs) || end.killMs < 0)
      throw new Error(`[metrics] Expected \`killMs\` >= 0, got \`${end.killMs}\``);
    multi
      .hincrby(key, `kill:bucket:${bucketFor(end.killMs / 1000)}`, 1)
      .hincrby(key, "kill:count", 1)
      .hincrby(key, "kill:sum_ms", Math.round(end.killMs));
  }
  if (end.survivors) multi.hincrby(key, "survivors", Math.max(0, Math.trunc(end.survivors)));
  if (end.watchdogReason) multi.hincrby(key, `watchdog:${end.watchdogReason}`, 1);
  if (end.deniedConnections) multi.hincrby(key, "sandbox:denied", Math.max(0, Math.trunc(end.deniedConnections)));
  const results = await multi.exec();
  const failed = results?.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
}

/** Counts one stage trigger refused for want of permission. */
export async function recordTriggerDenied(redis: Redis, prefix: string, kind: string): Promise<void> {
  await redis.hincrby(runMetricsKey(prefix), `denied:${kind}`, 1);
}

/** Reads the aggregated run metrics (one HGETALL). */
export async function readRunMetrics(redis: Redis, prefix: string, now = Date.now()): Promise<RunMetrics> {
  const day = utcDay(now);
  const [hash, spendHash] = await Promise.all([
    redis.hgetall(runMetricsKey(prefix)),
    redis.hgetall(spendDayKey(prefix, day)),
  ]);
  const spend = { day, repos: {} as Record<string, number>, totalUsd: 0 };
  for (const [field, raw] of Object.entries(spendHash)) {
    const usd = Number(raw);
    if (!Number.isFinite(usd)) continue;
    if (field === "*") spend.totalUsd = usd;
    else spend.repos[field] = usd;
  }
  const runs: Record<string, number> = {};
  const watchdog: Record<string, number> = {};
  const deniedTriggers: Record<string, number> = {};
  const perBucket = new Map<string, number>();
  for (const [field, raw] of Object.entries(hash)) {
    const n = Number(raw);
    if (!Number.isFinite(n)) continue;
    if (field.startsWith("state:")) runs[field.slice(6)] = n;
    else if (field.startsWith("watchdog:")) watchdog[field.slice(9)] = n;
    else if (field.startsWith("kill:bucket:")) perBucket.set(field.slice(12), n);
    else if (field.startsWith("denied:")) deniedTriggers[field.slice(7)] = n;
  }
  let running = 0;
  const buckets = [...KILL_LATENCY_BUCKETS_S.map(String), "+Inf"].map((le) => {
    running += perBucket.get(le) ?? 0;
    return { le: le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), count: running };
  });
  return {
    runs,
    killLatency: {
      buckets,
      count: Number(hash["kill:count"] ?? 0),
      sumSeconds: Number(hash["kill:sum_ms"] ?? 0) / 1000,
    },
    watchdog,
    survivors: Number(hash.survivors ?? 0),
    deniedTriggers,
    spend,
    sandboxDenied: Number(hash["sandbox:denied"] ?? 0),
  };
}
