import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadOrCreateRedisPassword, readRedisPassword, redisPasswordFile } from "./redis-password";

const fresh = () => join(mkdtempSync(join(tmpdir(), "fh-redispw-")), "redis");

describe("loadOrCreateRedisPassword", () => {
  it("generates a strong password on first use, 0600 in a 0700 dir, and reuses it afterwards", () => {
    const dir = fresh();
    const password = loadOrCreateRedisPassword(dir);
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(redisPasswordFile(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(loadOrCreateRedisPassword(dir)).toBe(password);
    expect(loadOrCreateRedisPassword(fresh())).not.toBe(password);
  });

  it("refuses a password file that group or others can read, naming the file and the fix", () => {
    const dir = fresh();
    loadOrCreateRedisPassword(dir);
    chmodSync(redisPasswordFile(dir), 0o644);
    expect(() => loadOrCreateRedisPassword(dir)).toThrow(/password has mode 644.*chmod 600/);
    expect(() => readRedisPassword(dir)).toThrow(/mode 644/);
  });

  it("refuses a password file owned by another user, or a symlink", () => {
    const dir = fresh();
    loadOrCreateRedisPassword(dir);
    const path = redisPasswordFile(dir);
    if (process.getuid?.() === 0) {
      chownSync(path, 999, 999);
      expect(() => readRedisPassword(dir)).toThrow(/owned by uid 999, not by us/);
      chownSync(path, 0, 0);
    }
    const linked = fresh();
    loadOrCreateRedisPassword(linked);
    const planted = join(linked, "..", "planted");
    writeFileSync(planted, "attacker-chosen-password-1234\n", { mode: 0o600 });
    rmSync(redisPasswordFile(linked));
    symlinkSync(planted, redisPasswordFile(linked));
    expect(() => loadOrCreateRedisPassword(linked)).toThrow(/is not a regular file/);
  });

  it("refuses a file that does not hold one usable password", () => {
    const dir = fresh();
    loadOrCreateRedisPassword(dir);
    writeFileSync(redisPasswordFile(dir), "two words\n");
    expect(() => readRedisPassword(dir)).toThrow(/must hold one password/);
    expect(readFileSync(redisPasswordFile(dir), "utf8")).toBe("two words\n");
  });
});
