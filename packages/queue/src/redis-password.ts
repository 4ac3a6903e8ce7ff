import { randomBytes } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REDIS_PASSWORD_PATTERN as PASSWORD, RedisServerError } from "./redis-server";

/** `<dir>/password`: where the embedded Redis keeps its generated `requirepass`. */
export function redisPasswordFile(dir: string): string {
  return join(dir, "password");
}

/**
 * Reads the password file, refusing one that anybody but us could have written or can read: a file that is a
 * symlink, owned by another uid, or has any group/other permission bit. Undefined when there is no file.
 */
export function readRedisPassword(dir: string): string | undefined {
  const path = redisPasswordFile(dir);
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const uid = process.getuid?.();
  const mode = (stat.mode & 0o777).toString(8).padStart(3, "0");
  if (!stat.isFile()) throw new RedisServerError(`[redis] ${path} is not a regular file; delete it to make a new one`);
  if (uid !== undefined && stat.uid !== uid)
    throw new RedisServerError(
      `[redis] ${path} is owned by uid ${stat.uid}, not by us (uid ${uid}); delete it to generate a new password`,
    );
  if ((stat.mode & 0o077) !== 0)
    throw new RedisServerError(
      `[redis] ${path} has mode ${mode}, readable or writable by group/others; run \`chmod 600 ${path}\` or delete it to generate a new password`,
    );
  const password = readFileSync(path, "utf8").trim();
  if (!PASSWORD.test(password))
    throw new RedisServerError(
      `[redis] ${path} must hold one password of 16-256 characters [A-Za-z0-9_-]; delete it to generate a new one`,
    );
  return password;
}

/**
 * The embedded Redis's password: reused from `<dir>/password` (checked as in `readRedisPassword`), else 32
 * random bytes written there 0600. `dir` itself is made 0700 (it also holds the AOF and redis.conf).
 */
export function loadOrCreateRedisPassword(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const existing = readRedisPassword(dir);
  if (existing) return existing;
  const password = randomBytes(32).toString("base64url");
  try {
    // `wx`: never follow or overwrite something created meanwhile; a concurrent start then reads the winner's.
    writeFileSync(redisPasswordFile(dir), `${password}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readRedisPassword(dir) as string;
    throw error;
  }
  return password;
}
