import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { createRedis, STAGE_QUEUE, startRedisServer } from "@forgehand/queue";
import { Queue } from "bullmq";
import { type BenchChild, startChild, track } from "../harness/child";
import type { Figure } from "../harness/figure";
import { type CannonResult, loadTest } from "../harness/load-test";
import { processCpuMs } from "../harness/proc-cpu";
import { fmt, median } from "../harness/stats";
import { githubHeaders, labeledPayload, signGithub } from "./github-payloads";

const SERVER = join(import.meta.dirname, "ingest-server.ts");
const TARGET_RATIO = 0.5;

interface Run {
  side: "forgehand" | "bare";
  res: CannonResult;
  /** CPU ms used during the run by the serving process, by redis-server, and by the bench (autocannon). */
  serverCpuMs: number;
  redisCpuMs: number;
  benchCpuMs: number;
}

/** Signed `issues.labeled` bodies for a spread of issues; each request gets a fresh delivery id. */
function requestSource(secret: string, count: number) {
  const bodies = Array.from({ length: count }, (_, i) => {
    const body = labeledPayload({ number: i + 1 });
    return { body, signature: signGithub(secret, body) };
  });
  let i = 0;
  return () => {
    const { body, signature } = bodies[i++ % bodies.length]!;
    return { body, headers: githubHeaders("issues", signature, randomUUID()) };
  };
}

/** Figure 1: forgehand's POST /webhooks/github against a bare Hono route, alternating autocannon runs. */
export const ingestFigure: Figure = {
  id: "ingest",
  title: "1. Ingest",
  method:
    "autocannon in the bench process against a child process serving POST /webhooks/github with @hono/node-server: forgehand's createApp (verify HMAC, parse, route, enqueue into a private redis-server with AOF on, as `forgehand start` runs it) versus a bare Hono route that reads the body and answers 202; a real ~12 KB issues.labeled payload from @octokit/webhooks-examples (stage label, issue body padded to 12 KiB), a fresh delivery id and a valid signature per request; alternating runs A B A B A B with the same connections and duration; enqueued jobs counted in Redis afterwards",
  target: `≥ ${TARGET_RATIO}× the bare route's req/s (ratio of medians) with zero non-2xx`,
  async run(ctx) {
    const smoke = ctx.size === "smoke";
    const connections = smoke ? 2 : 10;
    const durationS = smoke ? 1 : 8;
    const pairs = smoke ? 1 : 3;
    const secret = `bench-${randomUUID()}`;
    const prefix = `fhbench-${randomUUID().slice(0, 8)}`;
    const redisServer = await startRedisServer({ dataDir: join(ctx.tmpDir, "redis"), persistence: true });
    track(redisServer.child, { last: true });
    const children: BenchChild<{ port: number }>[] = [];
    try {
      const bare = await startChild<{ port: number }>(SERVER, ["bare"]);
      children.push(bare);
      const ours = await startChild<{ port: number }>(SERVER, ["forgehand", redisServer.url, secret, prefix]);
      children.push(ours);
      const next = requestSource(secret, 256);
      const url = (c: BenchChild<{ port: number }>) => `http://127.0.0.1:${c.ready.port}/webhooks/github`;
      let warm2xx = 0;
      if (!smoke) {
        ctx.note("warm-up 2 s each");
        warm2xx += (await loadTest({ url: url(ours), connections, durationS: 2, next }))["2xx"];
        await loadTest({ url: url(bare), connections, durationS: 2, next });
      }
      const runs: Run[] = [];
      for (let i = 0; i < pairs; i++) {
        for (const side of ["forgehand", "bare"] as const) {
          const server = side === "forgehand" ? ours : bare;
          const pid = server.child.pid!;
          const before = { server: processCpuMs(pid), redis: processCpuMs(redisServer.pid), bench: process.cpuUsage() };
          const res = await loadTest({ url: url(server), connections, durationS, next });
          const bench = process.cpuUsage(before.bench);
          ctx.note(`${side}: ${fmt(res.requests.average)} req/s, p99 ${res.latency.p99} ms, non-2xx ${res.non2xx}`);
          runs.push({
            side,
            res,
            serverCpuMs: processCpuMs(pid) - before.server,
            redisCpuMs: processCpuMs(redisServer.pid) - before.redis,
            benchCpuMs: (bench.user + bench.system) / 1000,
          });
        }
      }
      const enqueued = await countEnqueued(redisServer.url, prefix);
      const of = (side: Run["side"]) => runs.filter((r) => r.side === side).map((r) => r.res);
      const fh = of("forgehand");
      const base = of("bare");
      const fhRps = median(fh.map((r) => r.requests.average));
      const baseRps = median(base.map((r) => r.requests.average));
      const ratio = fhRps / baseRps;
      const non2xx = fh.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0);
      const fh2xx = fh.reduce((s, r) => s + r["2xx"], 0) + warm2xx;
      // Each 202 must have put one job in the queue: fewer jobs than answers means accepted deliveries were lost.
      // autocannon stops counting at the deadline, so up to one in-flight request per connection and run is
      // enqueued without its answer being counted.
      const inFlight = connections * (fh.length + (smoke ? 0 : 1));
      if (enqueued < fh2xx || enqueued > fh2xx + inFlight)
        throw new Error(
          `[bench] forgehand answered 2xx ${fh2xx} times (+ ≤ ${inFlight} in flight) but ${enqueued} stage jobs are in Redis`,
        );
      const perReq = (r: Run, ms: number) => (ms * 1000) / Math.max(1, r.res["2xx"] + r.res.non2xx);
      const cpuUs = (side: Run["side"], pick: (r: Run) => number) =>
        median(runs.filter((r) => r.side === side).map((r) => perReq(r, pick(r))));
      const fhServerUs = cpuUs("forgehand", (r) => r.serverCpuMs);
      const baseServerUs = cpuUs("bare", (r) => r.serverCpuMs);
      const redisUs = cpuUs("forgehand", (r) => r.redisCpuMs);
      const met = ratio >= TARGET_RATIO && non2xx === 0;
      return {
        method: `${ingestFigure.method}; ${connections} connections, ${durationS} s per run, ${pairs} pairs after a 2 s warm-up each`,
        status: met ? "met" : "missed",
        headline: `forgehand ${fmt(fhRps)} req/s (p50 ${fmt(median(fh.map((r) => r.latency.p50)))} ms, p99 ${fmt(median(fh.map((r) => r.latency.p99)))} ms) vs bare ${fmt(baseRps)} req/s (p50 ${fmt(median(base.map((r) => r.latency.p50)))} ms, p99 ${fmt(median(base.map((r) => r.latency.p99)))} ms): ${fmt(ratio)}×, ${non2xx} non-2xx/errors`,
        reason: met
          ? undefined
          : non2xx > 0
            ? `${non2xx} forgehand responses were not 2xx (or failed)`
            : "ratio below target; see bench/NOTES.md (profile)",
        metrics: {
          forgehandRps: fhRps,
          bareRps: baseRps,
          ratio,
          forgehandP50Ms: median(fh.map((r) => r.latency.p50)),
          forgehandP99Ms: median(fh.map((r) => r.latency.p99)),
          bareP99Ms: median(base.map((r) => r.latency.p99)),
          enqueuedJobs: enqueued,
          forgehandServerCpuUsPerReq: fhServerUs,
          bareServerCpuUsPerReq: baseServerUs,
          redisCpuUsPerReq: redisUs,
        },
        details: [
          `${enqueued.toLocaleString("en-US")} stage jobs found in Redis after the runs for ${fh2xx.toLocaleString("en-US")} counted 2xx answers from forgehand (warm-up included; the ${enqueued - fh2xx} more are requests in flight when autocannon stopped counting, at most one per connection and run).`,
          "",
          `CPU per request (median of runs, from /proc, so independent of how busy the shared machine was): forgehand's server process ${fmt(fhServerUs)} µs + redis-server ${fmt(redisUs)} µs, against the bare route's ${fmt(baseServerUs)} µs — a CPU cost ratio of ${fmt(baseServerUs / (fhServerUs + redisUs))}× (bare / (forgehand + Redis)). On ${ctx.machine.cores} cores the load generator, the server and redis-server share the CPUs, so redis-server's time is taken from the same budget.`,
          "",
          "| run | side | req/s | p50 ms | p99 ms | 2xx | non-2xx | errors | server CPU ms | redis CPU ms | autocannon CPU ms |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
          ...runs.map(
            (r, i) =>
              `| ${i + 1} | ${r.side} | ${fmt(r.res.requests.average)} | ${r.res.latency.p50} | ${r.res.latency.p99} | ${r.res["2xx"]} | ${r.res.non2xx} | ${r.res.errors + r.res.timeouts} | ${fmt(r.serverCpuMs)} | ${fmt(r.redisCpuMs)} | ${fmt(r.benchCpuMs)} |`,
          ),
        ],
      };
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      await redisServer.stop();
    }
  },
};

/** Jobs waiting in the stage queue: each 202 must have enqueued one. */
async function countEnqueued(url: string, prefix: string): Promise<number> {
  const connection = createRedis(url, "worker");
  const queue = new Queue(STAGE_QUEUE, { connection, prefix });
  try {
    const counts = await queue.getJobCounts("wait", "prioritized", "delayed", "waiting-children", "paused", "active");
    return Object.values(counts).reduce((a, b) => a + b, 0);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
