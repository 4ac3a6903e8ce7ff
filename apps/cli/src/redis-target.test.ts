import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateRedisPassword, redisPasswordFile } from "@forgehand/queue";
import { describe, expect, it } from "vitest";
import { findRedisUrl } from "./redis-target";

function dataDirWithUrl(): string {
  const dataDir = mkdtempSync(join(tmpdir(), "fh-target-"));
  mkdirSync(join(dataDir, "redis"));
  writeFileSync(join(dataDir, "redis", "url"), "redis://127.0.0.1:6390\n");
  return dataDir;
}

describe("findRedisUrl", () => {
  it("adds the embedded Redis's password from the data dir", () => {
    const dataDir = dataDirWithUrl();
    const password = loadOrCreateRedisPassword(join(dataDir, "redis"));
    expect(findRedisUrl({}, dataDir)).toEqual({ url: `redis://:${password}@127.0.0.1:6390`, from: "embedded" });
  });

  it("refuses a password file others can read instead of using it", () => {
    const dataDir = dataDirWithUrl();
    loadOrCreateRedisPassword(join(dataDir, "redis"));
    chmodSync(redisPasswordFile(join(dataDir, "redis")), 0o640);
    expect(() => findRedisUrl({}, dataDir)).toThrow(/mode 640/);
  });

  it("prefers REDIS_URL, untouched", () => {
    const dataDir = dataDirWithUrl();
    loadOrCreateRedisPassword(join(dataDir, "redis"));
    expect(findRedisUrl({ REDIS_URL: "redis://x:6379" }, dataDir)).toEqual({
      url: "redis://x:6379",
      from: "REDIS_URL",
    });
  });
});
