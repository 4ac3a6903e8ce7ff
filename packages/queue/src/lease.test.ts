import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { acquireLease, leaseHolder, releaseLease, renewLease } from "./lease";

describe("issue lease", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());

  it("lets only one token hold an issue at a time", async () => {
    const prefix = uniquePrefix("lease");
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => acquireLease(redis, prefix, "github:o/r#1", `t${i}`, 5_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = `t${results.indexOf(true)}`;
    expect(await leaseHolder(redis, prefix, "github:o/r#1")).toBe(winner);
    // Another issue is independent.
    expect(await acquireLease(redis, prefix, "github:o/r#2", "x", 5_000)).toBe(true);
  });

  it("renews and releases only with the holder's token", async () => {
    const prefix = uniquePrefix("lease");
    expect(await acquireLease(redis, prefix, "i", "mine", 300)).toBe(true);
    expect(await renewLease(redis, prefix, "i", "theirs", 5_000)).toBe(false);
    expect(await releaseLease(redis, prefix, "i", "theirs")).toBe(false);
    expect(await leaseHolder(redis, prefix, "i")).toBe("mine");
    expect(await renewLease(redis, prefix, "i", "mine", 5_000)).toBe(true);
    expect(await redis.pttl(`${prefix}:lease:i`)).toBeGreaterThan(1_000);
    expect(await releaseLease(redis, prefix, "i", "mine")).toBe(true);
    expect(await leaseHolder(redis, prefix, "i")).toBeNull();
  });

  it("lapses when not renewed, and a lapsed holder cannot renew over a new one", async () => {
    const prefix = uniquePrefix("lease");
    expect(await acquireLease(redis, prefix, "i", "dead", 100)).toBe(true);
    expect(await acquireLease(redis, prefix, "i", "next", 5_000)).toBe(false);
    await sleep(250);
    expect(await acquireLease(redis, prefix, "i", "next", 5_000)).toBe(true);
    expect(await renewLease(redis, prefix, "i", "dead", 5_000)).toBe(false);
    expect(await releaseLease(redis, prefix, "i", "dead")).toBe(false);
    expect(await leaseHolder(redis, prefix, "i")).toBe("next");
  });

  it("rejects a bad ttl with the value in the message", async () => {
    await expect(acquireLease(redis, uniquePrefix(), "i", "t", 0)).rejects.toThrow(/\[lease\].*`0`/);
  });

  it("refuses to renew with a bad ttl, leaving the lease held (PEXPIRE 0 would delete it)", async () => {
    const prefix = uniquePrefix();
    expect(await acquireLease(redis, prefix, "i", "t", 10_000)).toBe(true);
    for (const bad of [0, -5, 1.5, Number.NaN])
      await expect(renewLease(redis, prefix, "i", "t", bad)).rejects.toThrow(`\`${bad}\``);
    expect(await leaseHolder(redis, prefix, "i")).toBe("t");
  });
});
