import { describe, expect, it } from "vitest";
import { testRedisUrl } from "../../../test/helpers/redis";
import { connectRedis } from "./connect-redis";

describe("connectRedis", () => {
  it("returns a connected client for a live Redis", async () => {
    const redis = await connectRedis(testRedisUrl());
    expect(await redis.ping()).toBe("PONG");
    redis.disconnect();
  });

  it("fails fast and names the URL (without its password) when nothing listens", async () => {
    await expect(connectRedis("redis://user:pw@127.0.0.1:1", 1_000)).rejects.toThrow(
      /^\[cli\] Redis at redis:\/\/user:\[REDACTED\]@127\.0\.0\.1:1 does not answer: .*ECONNREFUSED/,
    );
  });
});
