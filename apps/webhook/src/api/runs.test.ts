import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { collectSecrets, createRedactor, type RunRecord } from "@forgehand/core";
import { createRunStore, type RunStore, startRedisServer } from "@forgehand/queue";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../../test/helpers/redis";
import { createRunsApi } from "./runs";

const auth = { authorization: "Bearer s3cret-token" };

function rec(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    forge: "gitea",
    repo: "o/r",
    issue: 3,
    isPr: false,
    stage: "analyse",
    state: "running",
    createdAt: Date.now(),
    turns: 2,
    costUsd: 0.1,
    attempts: 1,
    lastActions: [],
    ...over,
  };
}

describe("runs API", () => {
  let redis: Redis;
  let store: RunStore;
  beforeAll(async () => {
    redis = testRedis();
    store = createRunStore(redis, uniquePrefix("api"));
    await store.create(rec("old", { createdAt: 1, state: "succeeded" }));
    await store.create(rec("new", { createdAt: 2 }));
  });
  afterAll(() => redis.quit());

  it("answers 503 when no token is configured and 401 without or with a wrong token", async () => {
    expect((await createRunsApi({ store }).request("/runs", { headers: auth })).status).toBe(503);
    const app = createRunsApi({ store, token: "s3cret-token" });
    expect((await app.request("/runs")).status).toBe(401);
    expect((await app.request("/runs", { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    expect((await app.request("/runs/new/log", { headers: { authorization: "Basic x" } })).status).toBe(401);
  });

  it("lists runs newest first and serves one run, 404 for unknown", async () => {
    const app = createRunsApi({ store, token: "s3cret-token" });
    const list = await app.request("/runs?limit=5", { headers: auth });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { runs: RunRecord[] }).runs.map((r) => r.id)).toEqual(["new", "old"]);
    const one = await app.request("/runs/old", { headers: auth });
    expect(await one.json()).toMatchObject({ id: "old", state: "succeeded", turns: 2 });
    expect((await app.request("/runs/zzz", { headers: auth })).status).toBe(404);
    const bad = await app.request("/runs?limit=abc", { headers: auth });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("abc");
  });

  it("serves the log as text", async () => {
    await store.appendLog("old", "stdout", "hello");
    await store.appendLog("old", "stderr", "oops");
    const res = await createRunsApi({ store, token: "s3cret-token" }).request("/runs/old/log", { headers: auth });
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/stdout hello\n.*stderr oops\n$/s);
  });

  it("tails a live log as server-sent events and ends when the run is terminal", async () => {
    await store.appendLog("new", "stdout", "first");
    const app = createRunsApi({ store, token: "s3cret-token", tailBlockMs: 200 });
    const res = await app.request("/runs/new/log", { headers: { ...auth, accept: "text/event-stream" } });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    setTimeout(async () => {
      await store.appendLog("new", "stdout", "second");
      await store.appendLog("new", "system", "done");
      await store.update("new", { state: "succeeded" });
    }, 300);
    const body = await res.text();
    expect(body.indexOf("data: first")).toBeGreaterThan(-1);
    expect(body.indexOf("data: second")).toBeGreaterThan(body.indexOf("data: first"));
    expect(body).toContain("event: end");
    expect(body).toContain('"state":"succeeded"');
  });
});

describe("runs API redaction (second layer)", () => {
  // Written by a store without a redactor (an older runner): the API must still not serve the values.
  const env = {
    GITHUB_TOKEN: "ghs_0123456789abcdefghijABCDEFGHIJ012345",
    GITEA_TOKEN: "00112233445566778899aabbccddeeff00112233",
    GITHUB_WEBHOOK_SECRET: "whs-Correct-Horse-42-battery",
    FORGEHAND_API_TOKEN: "s3cret-token-of-the-api",
    REDIS_URL: "redis://:redis-pass-4242@127.0.0.1:6379",
  };
  const config = { agents: { a: { env: { FOO_API_KEY: "foo-key-value-123456" } } } } as never;
  const values = [...Object.values(env).slice(0, 4), "redis-pass-4242", "foo-key-value-123456"];
  const leak = `env: ${Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")} FOO_API_KEY=foo-key-value-123456 plain ${values.join(" ")} ghp_${"Z".repeat(36)}`;
  const headers = { authorization: `Bearer ${env.FORGEHAND_API_TOKEN}` };

  it("hides every secret in /runs, /runs/:id, the text log and the SSE tail", async () => {
    const redis = testRedis();
    try {
      const store = createRunStore(redis, uniquePrefix("api-redact"));
      await store.create(rec("leaky", { state: "failed", reason: leak, lastActions: [leak], trigger: leak }));
      await store.appendLog("leaky", "stdout", leak);
      await store.appendLog("leaky", "stderr", leak);
      const { redact } = createRedactor(collectSecrets({ env, config }));
      const open = createRunsApi({ store, token: env.FORGEHAND_API_TOKEN, tailBlockMs: 100 });
      const app = createRunsApi({ store, token: env.FORGEHAND_API_TOKEN, tailBlockMs: 100, redact });
      const text = async (api: typeof app, path: string, h: Record<string, string> = headers) =>
        (await api.request(path, { headers: h })).text();
      const bodies = async (api: typeof app) => [
        await text(api, "/runs"),
        await text(api, "/runs/leaky"),
        await text(api, "/runs/leaky/log"),
        await text(api, "/runs/leaky/log", { ...headers, accept: "text/event-stream" }),
      ];
      const served = await bodies(app);
      for (const body of served) {
        for (const v of values) expect(body).not.toContain(v);
        expect(body).not.toContain("Z".repeat(36));
        expect(body).toContain("[REDACTED]");
      }
      expect(JSON.parse(served[1] as string)).toMatchObject({ id: "leaky", state: "failed", repo: "o/r" });
      expect(served[3]).toContain("event: end");
      // Without the option the same API serves them: the option is what hides them.
      expect((await bodies(open)).join("\n")).toContain(env.GITEA_TOKEN);
    } finally {
      await redis.quit();
    }
  });
});

describe("runs API live tail connections", () => {
  it("holds one Redis connection per SSE stream for seconds of tailing, and closes it when the viewer leaves", async () => {
    // A private server, so connection counts see only this stream.
    const dir = mkdtempSync(join(tmpdir(), "fh-api-tail-"));
    const server = await startRedisServer({ dataDir: dir, persistence: false });
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    try {
      const stat = async (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(await redis.info())?.[1]);
      const store = createRunStore(redis, "api-tail");
      await store.create(rec("live"));
      await store.appendLog("live", "stdout", "hello");
      const clients = await stat("connected_clients");
      const opened = await stat("total_connections_received");

      const app = createRunsApi({ store, token: "s3cret-token", tailBlockMs: 100 });
      const res = await app.request("/runs/live/log", { headers: { ...auth, accept: "text/event-stream" } });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let body = "";
      const readUntil = async (text: string) => {
        while (!body.includes(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${text}: ${body}`);
          body += decoder.decode(value);
        }
      };
      await readUntil("data: hello");
      // ~25 blocking reads of 100 ms; the old code opened a connection for each.
      await sleep(2_500);
      await store.appendLog("live", "stdout", "still here");
      await readUntil("data: still here");
      expect((await stat("total_connections_received")) - opened).toBe(1);
      expect(await stat("connected_clients")).toBe(clients + 1);

      await reader.cancel();
      for (let i = 0; i < 100 && (await stat("connected_clients")) !== clients; i++) await sleep(50);
      expect(await stat("connected_clients")).toBe(clients);
    } finally {
      await redis.quit();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
