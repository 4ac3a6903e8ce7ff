import { request } from "node:http";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { testRedis, testRedisUrl, uniquePrefix } from "../../../test/helpers/redis";
import { createApp } from "./create-app";
import { BodyTooLargeError, MAX_BODY_BYTES } from "./read-body";
import { type NodeBody, readNodeBody } from "./read-node-body";
import { serveNode } from "./serve-node";
import { githubDelivery, githubExample, QueueProbe, testDeps } from "./testing/delivery-fixtures";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function body(headers: Record<string, string> = {}) {
  return Object.assign(new PassThrough(), { headers }) as unknown as PassThrough & NodeBody;
}

describe("readNodeBody", () => {
  it("joins the chunks of a body", async () => {
    const s = body();
    const read = readNodeBody(s, 100);
    s.write("ab");
    s.end("cd");
    expect((await read).toString()).toBe("abcd");
  });

  it("refuses a declared Content-Length over the limit without reading", async () => {
    const s = body({ "content-length": "101" });
    await expect(readNodeBody(s, 100)).rejects.toThrow(BodyTooLargeError);
    expect(s.listenerCount("data")).toBe(0);
  });

  it("stops a chunked body at the limit and stops listening to it", async () => {
    const s = body();
    const read = readNodeBody(s, 100);
    s.write(Buffer.alloc(60));
    s.write(Buffer.alloc(60));
    await expect(read).rejects.toThrow(/over the 100-byte limit \(read 120 bytes/);
    expect(s.listenerCount("data")).toBe(0);
    expect(s.isPaused()).toBe(true);
  });

  it("fails a body whose client hung up before it ended", async () => {
    const s = body();
    const read = readNodeBody(s, 100);
    s.write("partial");
    s.destroy();
    await expect(read).rejects.toThrow(/closed before its body ended/);
  });
});

describe("deliveries over real HTTP (Node's request read directly)", () => {
  async function serve() {
    const prefix = uniquePrefix("node-body");
    const deps = await testDeps(testRedisUrl(), prefix);
    const plain = testRedis();
    const probe = new QueueProbe(plain, prefix);
    cleanups.push(
      () => plain.disconnect(),
      () => deps.redis.disconnect(),
      () => probe.close(),
    );
    const server = await serveNode(createApp(deps), 0, "127.0.0.1");
    cleanups.push(() => server.close());
    return { url: `http://127.0.0.1:${server.port}/webhooks/github`, port: server.port, probe };
  }

  function post(port: number, headers: Record<string, string>, write: (req: ReturnType<typeof request>) => void) {
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ port, host: "127.0.0.1", path: "/webhooks/github", method: "POST", headers }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      // The server may answer and close before the whole body is written.
      req.on("error", (error) => (error.message.includes("EPIPE") ? undefined : reject(error)));
      write(req);
    });
  }

  it("a signed delivery is accepted and enqueued, chunked or sized", async () => {
    const { url, port, probe } = await serve();
    const p = githubExample("issues", "labeled");
    (p.label as { name: string }).name = "agent:analyse";
    const sized = githubDelivery("issues", p, { id: "sized-1" });
    expect((await fetch(url, { method: "POST", headers: sized.headers, body: sized.body })).status).toBe(202);
    const chunked = githubDelivery("issues", p, { id: "chunked-1" });
    const text = chunked.body as string;
    const res = await post(port, chunked.headers as Record<string, string>, (req) => {
      req.write(text.slice(0, 100));
      setTimeout(() => req.end(text.slice(100)), 20);
    });
    expect(res.status).toBe(202);
    expect((await probe.stageJobs()).map((j) => j.data.trigger.deliveryId).sort()).toEqual(["chunked-1", "sized-1"]);
  });

  it("a chunked body over 25 MiB → 413, and the server keeps serving", async () => {
    const { url, port } = await serve();
    // A signature of the right shape: only then is a body read at all.
    const headers = {
      "content-type": "application/json",
      "x-github-event": "issues",
      "x-github-delivery": "big-2",
      "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
    };
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const res = await post(port, headers, (req) => {
      let sent = 0;
      const more = () => {
        while (sent < 27) {
          sent++;
          if (!req.write(chunk)) return void req.once("drain", more);
        }
        req.end();
      };
      more();
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).error).toMatch(new RegExp(`over the ${MAX_BODY_BYTES}-byte limit`));
    expect((await fetch(url.replace("/webhooks/github", "/healthz"))).status).toBe(200);
  });

  it("a declared Content-Length over 25 MiB → 413 before the body is sent", async () => {
    const { port } = await serve();
    const headers = {
      "content-type": "application/json",
      "x-github-event": "issues",
      "x-github-delivery": "big-3",
      "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
      "content-length": String(26 * 1024 * 1024),
    };
    const res = await post(port, headers, (req) => req.write("{"));
    expect(res.status).toBe(413);
  });
});
