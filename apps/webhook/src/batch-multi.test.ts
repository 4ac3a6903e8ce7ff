import { afterEach, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { batchMulti } from "./batch-multi";
import { waitReady } from "./testing/delivery-fixtures";

const clients: ReturnType<typeof testRedis>[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

async function client() {
  const redis = testRedis();
  clients.push(redis);
  await waitReady(redis);
  return redis;
}

/** A build callback's answer: how many commands the chain queued. */
const count = (n: number, _chain: unknown) => n;

describe("batchMulti", () => {
  it("blocks queued in one turn share one pipeline, and each stays its own transaction", async () => {
    const redis = await client();
    const k = uniquePrefix("batch");
    await redis.set(`${k}:bad`, "not-a-number");
    const pipelines = new Set<object>();
    const queued = (p: object, n: number, _chain: unknown) => {
      pipelines.add(p);
      return n;
    };
    const [a, b, c] = await Promise.all([
      batchMulti(redis, (p) => queued(p, 2, p.set(`${k}:a`, "1").incr(`${k}:a`)), 2_000),
      // INCR on a string fails at EXEC time: only this block's command fails, its SET still ran.
      batchMulti(redis, (p) => queued(p, 2, p.set(`${k}:b`, "x").incr(`${k}:bad`)), 2_000),
      batchMulti(redis, (p) => queued(p, 1, p.get(`${k}:a`)), 2_000),
    ]);
    expect(pipelines.size).toBe(1);
    expect(a).toEqual({
      ok: true,
      replies: [
        [null, "OK"],
        [null, 2],
      ],
    });
    expect(b.ok).toBe(true);
    if (!b.ok) return;
    expect(b.replies[0]).toEqual([null, "OK"]);
    expect(b.replies[1]?.[0]?.message).toMatch(/not an integer/);
    // Queued after block a in the same pipeline, so it sees a's writes.
    expect(c).toEqual({ ok: true, replies: [[null, "2"]] });
    expect(await redis.get(`${k}:b`)).toBe("x");
  });

  it("a block Redis refuses to queue fails alone (EXECABORT), the others commit", async () => {
    const redis = await client();
    const k = uniquePrefix("batch");
    const [bad, good] = await Promise.all([
      batchMulti(redis, (p) => count(2, p.set(`${k}:x`, "1").call("no-such-command")), 2_000),
      batchMulti(redis, (p) => count(1, p.set(`${k}:y`, "1")), 2_000),
    ]);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toMatch(/EXECABORT/);
    expect(good).toEqual({ ok: true, replies: [[null, "OK"]] });
    expect(await redis.exists(`${k}:x`)).toBe(0);
    expect(await redis.get(`${k}:y`)).toBe("1");
  });

  it("a closed connection fails every block instead of hanging", async () => {
    const redis = await client();
    redis.disconnect();
    const reply = await batchMulti(redis, (p) => count(1, p.set(uniquePrefix("batch"), "1")), 2_000);
    expect(reply.ok).toBe(false);
  });
  it("a block whose build throws is dropped whole; the blocks around it still commit", async () => {
    const redis = await client();
    const k = uniquePrefix("batch");
    const first = batchMulti(redis, (p) => count(1, p.set(`${k}:1`, "1")), 2_000);
    expect(() =>
      batchMulti(
        redis,
        (p) => {
          p.set(`${k}:thrown`, "1");
          throw new Error("bad job options");
        },
        2_000,
      ),
    ).toThrow("bad job options");
    const last = batchMulti(redis, (p) => count(1, p.set(`${k}:3`, "1")), 2_000);
    expect(await first).toEqual({ ok: true, replies: [[null, "OK"]] });
    expect(await last).toEqual({ ok: true, replies: [[null, "OK"]] });
    expect(await redis.exists(`${k}:thrown`)).toBe(0);
  });
});
