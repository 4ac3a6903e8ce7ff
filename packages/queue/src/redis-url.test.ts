import { describe, expect, it } from "vitest";
import { parseRedisUrl, RedisUrlError } from "./redis-url";

describe("parseRedisUrl", () => {
  it("passes redis:// and rediss:// through, with no replica wait unless asked", () => {
    expect(parseRedisUrl("redis://:pw@127.0.0.1:6379/2")).toEqual({
      kind: "single",
      url: "redis://:pw@127.0.0.1:6379/2",
      replicaAcks: 0,
    });
    expect(parseRedisUrl("rediss://h:6380?wait=1")).toMatchObject({ kind: "single", replicaAcks: 1 });
  });

  it("reads a Sentinel URL: hosts (default port 26379), primary name, password, db, sentinel password, wait", () => {
    const t = parseRedisUrl(
      "redis+sentinel://:s%40cret@10.0.0.1:26380,sentinel-b,[::1]:26381/mymaster?db=3&sentinelPassword=sp",
    );
    expect(t).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "10.0.0.1", port: 26380 },
        { host: "sentinel-b", port: 26379 },
        { host: "::1", port: 26381 },
      ],
      name: "mymaster",
      options: { password: "s@cret", db: 3, sentinelPassword: "sp" },
      replicaAcks: 1,
    });
    expect(parseRedisUrl("redis+sentinel://h/m?wait=0")).toMatchObject({ replicaAcks: 0 });
  });

  it("reads a Cluster URL (default port 6379)", () => {
    expect(parseRedisUrl("redis+cluster://user:pw@a:7000,b")).toEqual({
      kind: "cluster",
      nodes: [
        { host: "a", port: 7000 },
        { host: "b", port: 6379 },
      ],
      options: { username: "user", password: "pw" },
      replicaAcks: 0,
    });
  });

  it.each([
    ["http://h:6379", /must start with redis:\/\//],
    ["redis+sentinel://h:26379", /primary's name/],
    ["redis+sentinel://h:99999/m", /out of range/],
    ["redis+sentinel://h;rm -rf/m", /is not host\[:port\]/],
    ["redis+sentinel://h/m?wait=x", /wait=x must be an integer/],
    ["redis+cluster://a:7000/3", /no database path/],
  ])("%s is refused naming what is wrong", (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(RedisUrlError);
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it("never puts the password in an error", () => {
    expect(() => parseRedisUrl("redis+sentinel://:hunter2@h:1/")).toThrow(/^(?!.*hunter2)/s);
  });
});
