import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import {
  commitDeliveryOn,
  DELIVERY_TTL_S,
  defineCommitDelivery,
  deliveryKey,
  undoDeliveryCommit,
} from "./commit-delivery";
import { labelSetKey } from "./label-sets";
import { readStop, STOP_FLAG_TTL_S, stopFlagKey } from "./stop-requests";

describe("delivery helpers", () => {
  it("keeps delivery ids past GitHub's 3-day redelivery window", () => {
    expect(DELIVERY_TTL_S).toBeGreaterThanOrEqual(3 * 24 * 3600);
    expect(deliveryKey("fh", "gitea", "abc")).toBe("fh:delivery:gitea:abc");
  });
});

describe("commitDeliveryOn", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = testRedis();
    defineCommitDelivery(redis);
  });
  afterAll(() => redis.quit());

  const stop = { issue: "github:o/r#1", by: "a", reason: "label_removed" as const, at: 1 };

  it("writes the mark, the stop flag (one TTL with requestStop) and the label set once; a duplicate writes nothing", async () => {
    const prefix = uniquePrefix("commit");
    const commit = {
      forge: "github",
      deliveryId: "d1",
      stops: [stop],
      labelSet: { issue: "github:o/r#1", value: '["a"]' },
      jobIds: ["r1"],
    };
    const multi = redis.multi();
    commitDeliveryOn(multi, prefix, commit);
    expect(await multi.exec()).toEqual([[null, 1]]);
    expect(JSON.parse((await redis.get(deliveryKey(prefix, "github", "d1"))) ?? "{}").jobs).toEqual(["r1"]);
    expect(await readStop(redis, prefix, { issue: stop.issue })).toEqual(stop);
    const ttl = await redis.ttl(stopFlagKey(prefix, { issue: stop.issue }));
    expect(ttl).toBeGreaterThan(STOP_FLAG_TTL_S - 60);
    expect(await redis.get(labelSetKey(prefix, stop.issue))).toBe('["a"]');

    await redis.del(stopFlagKey(prefix, { issue: stop.issue }));
    const again = redis.multi();
    commitDeliveryOn(again, prefix, { ...commit, labelSet: { issue: stop.issue, value: '["b"]' } });
    expect(await again.exec()).toEqual([[null, 0]]);
    expect(await readStop(redis, prefix, { issue: stop.issue })).toBeNull();
    expect(await redis.get(labelSetKey(prefix, stop.issue))).toBe('["a"]');

    await undoDeliveryCommit(redis, prefix, commit, '["old"]');
    expect(await redis.exists(deliveryKey(prefix, "github", "d1"))).toBe(0);
    expect(await redis.get(labelSetKey(prefix, stop.issue))).toBe('["old"]');
  });
});
