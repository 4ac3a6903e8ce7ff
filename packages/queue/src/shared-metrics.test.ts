import { afterAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { readRunMetrics, recordRunEnd } from "./shared-metrics";

const redis = testRedis();
afterAll(() => redis.disconnect());

describe("shared run metrics", () => {
  it("reads zeros before any run", async () => {
    const m = await readRunMetrics(redis, uniquePrefix("m"));
    expect(m.runs).toEqual({});
    expect(m.killLatency.count).toBe(0);
    expect(m.killLatency.buckets.at(-1)).toEqual({ le: Number.POSITIVE_INFINITY, count: 0 });
  });

  it("aggregates concurrent reports from several runners without losing counts", async () => {
    const prefix = uniquePrefix("m");
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        recordRunEnd(redis, prefix, {
          state: i % 2 ? "stopped" : "succeeded",
          ...(i % 2 ? { killMs: i * 100, survivors: i === 39 ? 3 : 0 } : {}),
          ...(i % 4 === 1 ? { watchdogReason: "stall" } : {}),
        }),
      ),
    );
    const m = await readRunMetrics(redis, prefix);
    expect(m.runs).toEqual({ succeeded: 20, stopped: 20 });
    expect(m.killLatency.count).toBe(20);
    // killMs = 100, 300, …, 3900 → sum 40 s; ≤ 1 s: 100,300,500,700,900 → 5; ≤ 2.5 s: 13; ≤ 5 s: all 20.
    expect(m.killLatency.sumSeconds).toBeCloseTo(40);
    const at = (le: number) => m.killLatency.buckets.find((b) => b.le === le)?.count;
    expect([at(1), at(2.5), at(5), at(Number.POSITIVE_INFINITY)]).toEqual([5, 13, 20, 20]);
    expect(m.watchdog).toEqual({ stall: 10 });
    expect(m.survivors).toBe(3);
  });

  it("rejects a bad report with the bad value and writes nothing", async () => {
    const prefix = uniquePrefix("m");
    await expect(recordRunEnd(redis, prefix, { state: "stopped", killMs: -5 })).rejects.toThrow(/killMs.*-5/);
    await expect(recordRunEnd(redis, prefix, { state: "" })).rejects.toThrow(/\[metrics\]/);
    expect((await readRunMetrics(redis, prefix)).runs).toEqual({});
  });
});
