import { describe, expect, it } from "vitest";
import { testRedisUrl } from "../../../test/helpers/redis";
import { connectRedis, redactUrl } from "./connect-redis";

describe("redactUrl", () => {
  it("hides the password and keeps the rest", () => {
    expect(redactUrl("redis://default:s3cret@redis:6379/2")).toBe("redis://default:***@redis:6379/2");
    expect(redactUrl("rediss://:s3cret@host:6380")).toBe("rediss://:***@host:6380");
    expect(redactUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
  });
});

describe("connectRedis", () => {
  it("returns a connected client for a live Redis", async () => {
    const redis = await connectRedis(testRedisUrl());
    expect(await redis.ping()).toBe("PONG");
    redis.disconnect();
  });

  it("fails fast and names the URL (without its password) when nothing listens", async () => {
    await expect(connectRedis("redis://user:pw@127.0.0.1:1", 1_000)).rejects.toThrow(
      /^\[cli\] Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1 does not answer: .*ECONNREFUSED/,
    );
  });
});
