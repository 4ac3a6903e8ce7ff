import { createSpendLedger, recordRunEnd } from "@forgehand/queue";
import { Hono } from "hono";
import type { LambdaEvent } from "hono/aws-lambda";
import type { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { testRedis, testRedisUrl, uniquePrefix } from "../../../test/helpers/redis";
import { createApp } from "./create-app";
import { createFetchHandler } from "./fetch-handler";
import { createLambdaHandler } from "./lambda-handler";
import { serveNode } from "./serve-node";
import { githubDelivery, githubExample, QueueProbe, testDeps } from "./testing/delivery-fixtures";
import type { WebhookDeps } from "./webhook-deps";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function labeled(id: string) {
  const p = githubExample("issues", "labeled");
  (p.label as { name: string }).name = "agent:analyse";
  const init = githubDelivery("issues", p, { id });
  return { headers: init.headers as Record<string, string>, body: init.body as string };
}

async function setup(name: string): Promise<{ prefix: string; plain: Redis; probe: QueueProbe; made: WebhookDeps[] }> {
  const prefix = uniquePrefix(name);
  const plain = testRedis();
  const probe = new QueueProbe(plain, prefix);
  const made: WebhookDeps[] = [];
  cleanups.push(
    () => plain.disconnect(),
    () => probe.close(),
    () => {
      for (const d of made) d.redis.disconnect();
    },
  );
  return { prefix, plain, probe, made };
}

describe("serverless and Node entry points", () => {
  it("Lambda (API Gateway v1 and v2 events): the job lands in Redis and deps are built once", async () => {
    const { prefix, probe, made } = await setup("lambda");
    let built = 0;
    const handler = createLambdaHandler(async () => {
      built++;
      const deps = await testDeps(testRedisUrl(), prefix);
      made.push(deps);
      return deps;
    });
    const v1 = labeled("lambda-v1");
    const v1Event = {
      resource: "/{proxy+}",
      path: "/webhooks/github",
      httpMethod: "POST",
      headers: v1.headers,
      multiValueHeaders: Object.fromEntries(Object.entries(v1.headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      requestContext: {
        path: "/webhooks/github",
        stage: "prod",
        httpMethod: "POST",
        requestId: "r1",
        identity: { sourceIp: "1.2.3.4" },
      },
      body: v1.body,
      isBase64Encoded: false,
    } as unknown as LambdaEvent;
    const r1 = await handler(v1Event);
    expect(r1.statusCode).toBe(202);
    expect(JSON.parse(r1.body).delivery).toBe("lambda-v1");

    const v2 = labeled("lambda-v2");
    const v2Event = {
      version: "2.0",
      routeKey: "$default",
      rawPath: "/webhooks/github",
      rawQueryString: "",
      headers: v2.headers,
      requestContext: {
        domainName: "abc.execute-api.eu-west-1.amazonaws.com",
        http: {
          method: "POST",
          path: "/webhooks/github",
          protocol: "HTTP/1.1",
          sourceIp: "1.2.3.4",
          userAgent: "GitHub-Hookshot",
        },
        requestId: "r2",
        routeKey: "$default",
        stage: "$default",
      },
      // API Gateway base64-encodes bodies it considers binary; the signature must still match.
      body: Buffer.from(v2.body).toString("base64"),
      isBase64Encoded: true,
    } as unknown as LambdaEvent;
    const r2 = await handler(v2Event);
    expect(r2.statusCode).toBe(202);
    expect(built).toBe(1);
    const ids = (await probe.stageJobs()).map((j) => j.data.trigger.deliveryId).sort();
    expect(ids).toEqual(["lambda-v1", "lambda-v2"]);
  });

  it("a fetch handler whose deps fail once retries on the next request", async () => {
    const { prefix, probe, made } = await setup("fetch");
    let calls = 0;
    const fetchHandler = createFetchHandler(async () => {
      if (++calls === 1) throw new Error("[test] first build fails");
      const deps = await testDeps(testRedisUrl(), prefix);
      made.push(deps);
      return deps;
    });
    const d = labeled("fetch-1");
    const req = () => new Request("http://x/webhooks/github", { method: "POST", headers: d.headers, body: d.body });
    await expect(fetchHandler(req())).rejects.toThrow(/first build fails/);
    expect((await fetchHandler(req())).status).toBe(202);
    expect(await probe.total()).toBe(1);
  });

  it("serveNode serves real HTTP, mounts /api, and closes", async () => {
    const { prefix, made } = await setup("node");
    const deps = await testDeps(testRedisUrl(), prefix, { api: new Hono().get("/runs", (c) => c.json([])) });
    made.push(deps);
    const server = await serveNode(createApp(deps), 0, "127.0.0.1");
    cleanups.push(() => server.close());
    const d = labeled("node-1");
    const res = await fetch(`http://127.0.0.1:${server.port}/webhooks/github`, {
      method: "POST",
      headers: d.headers,
      body: d.body,
    });
    expect(res.status).toBe(202);
    expect(await (await fetch(`http://127.0.0.1:${server.port}/api/runs`)).json()).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
  });

  it("/metrics serves delivery counters and the run metrics runners wrote into Redis", async () => {
    const { prefix, plain, made } = await setup("metrics");
    const deps = await testDeps(testRedisUrl(), prefix, { registry: new Registry() });
    made.push(deps);
    const app = createApp(deps);
    const d = labeled("m-1");
    await app.request("/webhooks/github", { method: "POST", headers: d.headers, body: d.body });
    await app.request("/webhooks/github", {
      method: "POST",
      headers: { ...d.headers, "x-hub-signature-256": "sha256=00" },
      body: d.body,
    });
    await recordRunEnd(plain, prefix, { state: "succeeded" });
    await recordRunEnd(plain, prefix, { state: "succeeded" });
    await recordRunEnd(plain, prefix, { state: "stopped", killMs: 320, survivors: 0 });
    await recordRunEnd(plain, prefix, { state: "timed_out", killMs: 7_500, survivors: 2, watchdogReason: "timeout" });
    // Live spend the runners counted into the budgets ledger: gauges per repository and in total, for today (UTC).
    const spend = createSpendLedger(plain, prefix, {});
    await spend.add({ issue: "github:acme/app#1", repo: "github:acme/app" }, 1.25);
    await spend.add({ issue: "gitea:o/r#2", repo: "gitea:o/r" }, 0.5);
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toContain('forgehand_webhook_deliveries_total{forge="github",outcome="accepted"} 1');
    expect(text).toContain('forgehand_webhook_deliveries_total{forge="github",outcome="unauthorized"} 1');
    expect(text).toContain('forgehand_jobs_enqueued_total{kind="stage"} 1');
    expect(text).toContain('forgehand_runs_total{state="succeeded"} 2');
    expect(text).toContain('forgehand_runs_total{state="timed_out"} 1');
    expect(text).toContain('forgehand_kill_latency_seconds_bucket{le="0.25"} 0');
    expect(text).toContain('forgehand_kill_latency_seconds_bucket{le="0.5"} 1');
    expect(text).toContain('forgehand_kill_latency_seconds_bucket{le="10"} 2');
    expect(text).toContain('forgehand_kill_latency_seconds_bucket{le="+Inf"} 2');
    expect(text).toContain("forgehand_kill_latency_seconds_sum 7.82");
    expect(text).toContain("forgehand_kill_latency_seconds_count 2");
    expect(text).toContain('forgehand_watchdog_terminations_total{reason="timeout"} 1');
    expect(text).toContain("forgehand_kill_survivors_total 2");
    const day = new Date().toISOString().slice(0, 10);
    expect(text).toContain(`forgehand_spend_usd{repo="github:acme/app",day="${day}"} 1.25`);
    expect(text).toContain(`forgehand_spend_usd{repo="gitea:o/r",day="${day}"} 0.5`);
    expect(text).toContain(`forgehand_spend_installation_usd{day="${day}"} 1.75`);
    expect(text).toContain("# TYPE forgehand_spend_usd gauge");
    expect(text).toContain("# TYPE forgehand_kill_latency_seconds histogram");
    // A second app on the same registry (hot reload) must not throw on duplicate metric names.
    expect(() => createApp(deps)).not.toThrow();
  });
});
