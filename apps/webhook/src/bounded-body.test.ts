import { request } from "node:http";
import { parseConfig } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../../../test/helpers/redis";
import { BodyBudget } from "./body-budget";
import { createApp } from "./create-app";
import { serveNode } from "./serve-node";
import { TEST_CONFIG, testDeps } from "./testing/delivery-fixtures";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const SHAPED = `sha256=${"0".repeat(64)}`;

async function serve(webhook: { maxInFlightBytes?: number; bodyTimeout?: number }) {
  const prefix = uniquePrefix("bounded");
  const doc = { ...structuredClone(TEST_CONFIG), webhook } as Record<string, unknown>;
  const deps = await testDeps(testRedisUrl(), prefix, { config: parseConfig(doc, {}).config });
  cleanups.push(() => deps.redis.disconnect());
  const server = await serveNode(createApp(deps), 0, "127.0.0.1");
  cleanups.push(() => server.close());
  return server.port;
}

interface Answer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
  /** Body bytes the client had written when the answer came. */
  written: number;
}

/** Posts headers, then `write` feeds the body; resolves on the server's answer, whatever the body did. */
function post(
  port: number,
  headers: Record<string, string>,
  write: (req: ReturnType<typeof request>, count: (n: number) => void) => void,
) {
  return new Promise<Answer>((resolve, reject) => {
    let written = 0;
    const req = request({ port, host: "127.0.0.1", path: "/webhooks/github", method: "POST", headers }, (res) => {
      const at = written;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers, written: at }));
    });
    req.on("error", (error) => (/EPIPE|ECONNRESET/.test(error.message) ? undefined : reject(error)));
    // Node's client holds the headers back until the first write: send them now.
    req.flushHeaders();
    write(req, (n) => {
      written += n;
    });
  });
}

const base = { "content-type": "application/json", "x-github-event": "issues" };

describe("bounded webhook memory and time", () => {
  it("a delivery with no signature header is refused 401 before any body is sent", async () => {
    const port = await serve({});
    const res = await post(port, { ...base, "x-github-delivery": "unsigned", "content-length": "1000000" }, () => {
      // The body never comes: only the headers decide.
    });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text).error).toBe("[webhook] delivery is not signed");
    expect(res.written).toBe(0);
  });

  it("bodies past the in-flight cap get 503 with Retry-After; the cap frees once they are answered", async () => {
    const port = await serve({ maxInFlightBytes: 1_000_000 });
    const half = (id: string) => ({
      ...base,
      "x-github-delivery": id,
      "x-hub-signature-256": SHAPED,
      "content-length": "600000",
    });
    // The first body holds 600 kB of the 1 MB budget while it trickles in.
    let finish: (() => void) | undefined;
    const first = post(port, half("hold-1"), (req, count) => {
      req.write("{");
      count(1);
      finish = () => req.end(" ".repeat(599_999));
    });
    await new Promise((r) => setTimeout(r, 200));
    const second = await post(port, half("over-1"), () => {});
    expect(second.status).toBe(503);
    expect(second.headers["retry-after"]).toBe("5");
    expect(JSON.parse(second.text).error).toMatch(/in flight/);
    expect(second.written).toBe(0);
    finish?.();
    expect((await first).status).toBe(401); // read whole, then the (fake) signature fails
    // Chunked bodies are counted as they arrive, and the reservation was released.
    const chunked = await post(
      port,
      { ...base, "x-github-delivery": "chunked-1", "x-hub-signature-256": SHAPED },
      (req) => {
        req.write("{");
        const more = (left: number) => (left === 0 ? req.end() : req.write(" ".repeat(100_000), () => more(left - 1)));
        more(12);
      },
    );
    expect(chunked.status).toBe(503);
    const small = await post(port, { ...half("after-1"), "content-length": "2" }, (req) => req.end("{}"));
    expect(small.status).toBe(401);
  });

  it("a body that trickles in slower than the body timeout is answered 408", async () => {
    const port = await serve({ bodyTimeout: 300 });
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const res = await post(
      port,
      { ...base, "x-github-delivery": "slow-1", "x-hub-signature-256": SHAPED, "content-length": "1000" },
      (req) => {
        timer = setInterval(() => req.write(" "), 50);
      },
    );
    clearInterval(timer);
    expect(res.status).toBe(408);
    expect(JSON.parse(res.text).error).toMatch(/did not arrive within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe("BodyBudget", () => {
  it("reserves declared sizes up front, chunked sizes as they come, and releases once", () => {
    const budget = new BodyBudget(100);
    const a = budget.reserve(60);
    expect(a).not.toBeNull();
    expect(budget.reserve(50)).toBeNull();
    expect(a?.take(60)).toBe(true);
    expect(budget.inFlight).toBe(60);
    const b = budget.reserve();
    expect(b?.take(30)).toBe(true);
    expect(b?.take(20)).toBe(false);
    expect(budget.inFlight).toBe(90);
    a?.release();
    a?.release();
    expect(budget.inFlight).toBe(30);
    b?.release();
    expect(budget.inFlight).toBe(0);
  });
});
