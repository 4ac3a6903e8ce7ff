import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMAND_QUEUE, createRunStore, leaseKey, recordRunEnd, STAGE_QUEUE } from "@forgehand/queue";
import { Queue, Worker } from "bullmq";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { testRedis, testRedisUrl, uniquePrefix } from "../../../test/helpers/redis";
import { createApp } from "./create-app";
import { testDeps } from "./testing/delivery-fixtures";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sample = (text: string, series: string) =>
  text
    .split("\n")
    .find((l) => l.startsWith(`${series} `))
    ?.split(" ")[1];

describe("queue and runner gauges on /metrics", () => {
  it("count jobs per queue and state, the oldest waiting job's age, running agents per runner, leases, denials", async () => {
    const prefix = uniquePrefix("gauges");
    const plain = testRedis();
    const deps = await testDeps(testRedisUrl(), prefix, { registry: new Registry() });
    const stage = new Queue(STAGE_QUEUE, { connection: plain, prefix });
    const worker = new Worker(STAGE_QUEUE, null, { connection: testRedis(), prefix, autorun: false });
    cleanups.push(
      () => worker.close(),
      () => stage.close(),
      () => plain.disconnect(),
      () => deps.redis.disconnect(),
    );
    const app = createApp(deps);
    // Nothing queued yet: every series is 0.
    let text = await (await app.request("/metrics")).text();
    expect(sample(text, `forgehand_queue_jobs{queue="${STAGE_QUEUE}",state="waiting"}`)).toBe("0");
    expect(sample(text, `forgehand_queue_oldest_waiting_seconds{queue="${STAGE_QUEUE}"}`)).toBe("0");
    expect(sample(text, "forgehand_leases_held")).toBe("0");

    // One job taken by a runner (active, its run record names runner-a), two waiting (one 60 s old), one delayed.
    await stage.add("run", {}, { jobId: "r-active" });
    const store = createRunStore(plain, prefix);
    await store.create({
      id: "r-active",
      forge: "github",
      repo: "acme/w",
      issue: 1,
      isPr: false,
      stage: "develop",
      state: "running",
      createdAt: Date.now(),
      turns: 0,
      costUsd: 0,
      attempts: 0,
      lastActions: [],
      runner: "runner-a",
    });
    const taken = await worker.getNextJob("token-1");
    expect(taken?.id).toBe("r-active");
    await stage.add("run", {}, { jobId: "r-old", timestamp: Date.now() - 60_000 });
    await stage.add("run", {}, { jobId: "r-new" });
    await stage.add("run", {}, { jobId: "r-later", delay: 3_600_000 });
    await plain.set(leaseKey(prefix, "github:acme/w#1"), "token", "PX", 60_000);
    await recordRunEnd(plain, prefix, { state: "failed", deniedConnections: 3 });

    text = await (await app.request("/metrics")).text();
    expect(sample(text, `forgehand_queue_jobs{queue="${STAGE_QUEUE}",state="waiting"}`)).toBe("2");
    expect(sample(text, `forgehand_queue_jobs{queue="${STAGE_QUEUE}",state="delayed"}`)).toBe("1");
    expect(sample(text, `forgehand_queue_jobs{queue="${STAGE_QUEUE}",state="active"}`)).toBe("1");
    expect(sample(text, `forgehand_queue_jobs{queue="${COMMAND_QUEUE}",state="waiting"}`)).toBe("0");
    const age = Number(sample(text, `forgehand_queue_oldest_waiting_seconds{queue="${STAGE_QUEUE}"}`));
    expect(age).toBeGreaterThanOrEqual(59);
    expect(age).toBeLessThan(120);
    expect(sample(text, 'forgehand_running_agents{runner="runner-a"}')).toBe("1");
    expect(sample(text, "forgehand_leases_held")).toBe("1");
    expect(sample(text, "forgehand_sandbox_denied_connections_total")).toBe("3");
  });

  it("examples/grafana-dashboard.json queries only metrics a scraped /metrics has", async () => {
    const dashboard = readFileSync(join(import.meta.dirname, "../../../examples/grafana-dashboard.json"), "utf8");
    const exprs = (JSON.parse(dashboard).panels as { targets: { expr: string }[] }[]).flatMap((p) =>
      p.targets.map((t) => t.expr),
    );
    const queried = new Set(exprs.flatMap((e) => [...e.matchAll(/\bforgehand_[a-z_]+/g)].map((m) => m[0])));
    expect(queried.size).toBeGreaterThanOrEqual(10);
    const prefix = uniquePrefix("dashboard");
    const deps = await testDeps(testRedisUrl(), prefix, { registry: new Registry() });
    cleanups.push(() => deps.redis.disconnect());
    const text = await (await createApp(deps).request("/metrics")).text();
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) (\w+)/gm)].map((m) => m[1]!));
    // A histogram is queried as name_bucket / _sum / _count.
    const base = (name: string) => name.replace(/_(bucket|sum|count)$/, "");
    for (const name of queried) expect(exposed.has(name) || exposed.has(base(name)), name).toBe(true);
  });
});
