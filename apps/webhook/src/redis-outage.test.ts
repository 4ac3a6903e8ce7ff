import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedis, type RedisServerHandle, startRedisServer } from "@forgehand/queue";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { testRedis, testRedisUrl, uniquePrefix } from "../../../test/helpers/redis";
import { createApp } from "./create-app";
import {
  giteaDelivery,
  giteaFixture,
  githubDelivery,
  githubExample,
  QueueProbe,
  testDeps,
} from "./testing/delivery-fixtures";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`[test] timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function labeledDelivery(id: string) {
  const p = githubExample("issues", "labeled");
  (p.label as { name: string }).name = "agent:analyse";
  return githubDelivery("issues", p, { id });
}

describe("Redis outages", () => {
  it("Redis stopped → 503 fast and /readyz 503; after it returns the same delivery is accepted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fh-webhook-redis-"));
    let server: RedisServerHandle = await startRedisServer({ dataDir: dir, persistence: false });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => server.stop());
    const prefix = uniquePrefix("outage");
    const redis = createRedis(server.url, "webhook");
    cleanups.push(() => redis.disconnect());
    const deps = await testDeps(server.url, prefix, { redis });
    const app = createApp(deps);

    expect((await app.request("/webhooks/github", labeledDelivery("before"))).status).toBe(202);
    expect((await app.request("/readyz")).status).toBe(200);

    await server.stop();
    await until("the client to notice", () => redis.status !== "ready");
    const started = Date.now();
    const down = await app.request("/webhooks/github", labeledDelivery("during"));
    expect(down.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(((await down.json()) as { error: string }).error).toMatch(/^\[webhook\] Redis/);
    const notReady = await app.request("/readyz");
    expect(notReady.status).toBe(503);
    // /readyz names the connection that is down and why.
    const body = (await notReady.json()) as { down: string[]; connections: Record<string, { state?: string }> };
    expect(body.down).toContain("webhook");
    expect(body.connections.webhook?.state).toMatch(/connect|reconnecting|end|close/);
    // Gitea label events need the stored label set: also 503, not a guess.
    const gitea = giteaDelivery("issues", giteaFixture("issues.label_updated.json"), { id: "g-during" });
    expect((await app.request("/webhooks/gitea", gitea)).status).toBe(503);
    expect((await app.request("/healthz")).status).toBe(200);
    // A ping needs no Redis at all.
    expect((await app.request("/webhooks/github", githubDelivery("ping", githubExample("ping")))).status).toBe(200);

    server = await startRedisServer({ dataDir: dir, persistence: false, port: server.port });
    await until("the client to reconnect", () => redis.status === "ready");
    const again = await app.request("/webhooks/github", labeledDelivery("during"));
    expect(again.status).toBe(202);
    const plain = new Redis(server.url);
    cleanups.push(() => plain.disconnect());
    const probe = new QueueProbe(plain, prefix);
    cleanups.push(() => probe.close());
    expect((await probe.stageJobs()).map((j) => j.data.trigger.deliveryId)).toEqual(["during"]);
  });

  it("a job add that fails inside the MULTI undoes the delivery mark, so the redelivery is accepted", async () => {
    const prefix = uniquePrefix("undo");
    const deps = await testDeps(testRedisUrl(), prefix);
    cleanups.push(() => deps.redis.disconnect());
    const plain = testRedis();
    cleanups.push(() => plain.disconnect());
    const app = createApp(deps);
    // BullMQ's add script INCRs the queue's id counter first: a non-integer there fails the add before any write.
    await plain.set(`${prefix}:forgehand-stage:id`, "not-a-number");
    const failed = await app.request("/webhooks/github", labeledDelivery("half"));
    expect(failed.status).toBe(503);
    expect(await plain.exists(`${prefix}:delivery:github:half`)).toBe(0);
    await plain.del(`${prefix}:forgehand-stage:id`);
    const retried = await app.request("/webhooks/github", labeledDelivery("half"));
    expect(retried.status).toBe(202);
    const probe = new QueueProbe(plain, prefix);
    cleanups.push(() => probe.close());
    expect(await probe.total()).toBe(1);
  });
  it("deliveries committed in one batch fail alone: a failed job add undoes only its own mark", async () => {
    const prefix = uniquePrefix("batch");
    const deps = await testDeps(testRedisUrl(), prefix);
    cleanups.push(() => deps.redis.disconnect());
    const plain = testRedis();
    cleanups.push(() => plain.disconnect());
    const app = createApp(deps);
    // Warm up so both deliveries below reach the commit in the same event-loop turn.
    expect((await app.request("/webhooks/github", labeledDelivery("warm"))).status).toBe(202);
    await plain.set(`${prefix}:forgehand-command:id`, "not-a-number");
    const comment = githubExample("issue_comment", "created");
    (comment.comment as { body: string }).body = "/stop";
    const [label, command] = await Promise.all([
      app.request("/webhooks/github", labeledDelivery("together-1")),
      app.request("/webhooks/github", githubDelivery("issue_comment", comment, { id: "together-2" })),
    ]);
    expect(label.status).toBe(202);
    expect(command.status).toBe(503);
    expect(await plain.exists(`${prefix}:delivery:github:together-1`)).toBe(1);
    expect(await plain.exists(`${prefix}:delivery:github:together-2`)).toBe(0);
    const probe = new QueueProbe(plain, prefix);
    cleanups.push(() => probe.close());
    expect((await probe.stageJobs()).map((j) => j.data.trigger.deliveryId).sort()).toEqual(["together-1", "warm"]);
  });
});
