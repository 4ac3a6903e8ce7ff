import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Options for a private `redis-server` child. */
export interface RedisServerOptions {
  /** Directory for the AOF/RDB files, pid file and log. Created if missing. */
  dataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Path or name of the binary. @defaultValue "redis-server" */
  binary?: string;
  /** Persistence (AOF + RDB). @defaultValue true */
  persistence?: boolean;
  /** How long to wait for PONG. @defaultValue 10000 */
  startTimeoutMs?: number;
  /** Called with human-readable notes (stale pid removed, port changed…). */
  onNote?: (note: string) => void;
  /**
   * `requirepass` for the server (see `loadOrCreateRedisPassword`). Written to `<dataDir>/redis.conf` (0600),
   * never put in argv: /proc/<pid>/cmdline is readable by every local user. `url` then carries it.
   */
  password?: string;
}

/** A running private Redis. */
export interface RedisServerHandle {
  /** Connection URL; includes the password when there is one (log it only through `redactUrl`). */
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  child: ChildProcess;
  /** SIGTERM (Redis saves and exits), SIGKILL after 10 s. Resolves when the process is gone. */
  stop(): Promise<void>;
}

/** Error raised when the binary is missing or the server never answers. */
export class RedisServerError extends Error {
  override name = "RedisServerError";
}

/** What a Redis password may be made of: one token in redis.conf and in a URL's userinfo, no escaping needed. */
export const REDIS_PASSWORD_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolvePort(addr.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Sends PING (after AUTH when a password is given) over a raw socket; true on `+PONG`. Avoids client retry
 * noise while waiting. A server that wants a password and gets none answers `-NOAUTH`: false.
 */
export async function pingRedis(
  port: number,
  host = "127.0.0.1",
  timeoutMs = 500,
  password?: string,
): Promise<boolean> {
  const reply = await rawReply(port, host, timeoutMs, password);
  return reply.includes("+PONG");
}

/** True when something speaking RESP listens on the port (PONG, or a NOAUTH error from a password-protected one). */
async function answersAsRedis(port: number, host = "127.0.0.1"): Promise<boolean> {
  const reply = await rawReply(port, host, 500);
  return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
}

function rawReply(port: number, host: string, timeoutMs: number, password?: string): Promise<string> {
  return new Promise((done) => {
    const sock = createConnection({ port, host });
    let got = "";
    const finish = () => {
      sock.destroy();
      done(got);
    };
    sock.setTimeout(timeoutMs, finish);
    sock.on("error", finish);
    sock.on("connect", () => sock.write(password ? `AUTH ${password}\r\nPING\r\n` : "PING\r\n"));
    sock.on("data", (d) => {
      got += d.toString();
      // One reply line per command sent: AUTH's (+OK or -ERR) then PING's.
      if (got.split("\r\n").length > (password ? 2 : 1)) finish();
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

/**
 * Handles what a crashed earlier start left: a pid file whose process is gone is
 * removed; one whose process is still our redis-server is shut down so its data
 * directory (and AOF) can be reused safely.
 */
async function clearStale(dataDir: string, pidFile: string, note: (s: string) => void): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (Number.isInteger(pid) && pid > 0 && alive(pid) && commandOf(pid).includes("redis-server")) {
    note(`stopping redis-server pid ${pid} left by an earlier start (data dir ${dataDir})`);
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
    if (alive(pid)) process.kill(pid, "SIGKILL");
  } else {
    note(`removing stale pid file ${pidFile}`);
  }
  rmSync(pidFile, { force: true });
}

/** Starts a private redis-server bound to 127.0.0.1 and waits until it answers PING. */
export async function startRedisServer(options: RedisServerOptions): Promise<RedisServerHandle> {
  const dataDir = resolve(options.dataDir);
  const note = options.onNote ?? (() => {});
  mkdirSync(dataDir, { recursive: true });
  const { password } = options;
  if (password !== undefined && !REDIS_PASSWORD_PATTERN.test(password))
    throw new RedisServerError("[redis] the password must be 16-256 characters [A-Za-z0-9_-]");
  const pidFile = join(dataDir, "redis.pid");
  await clearStale(dataDir, pidFile, note);
  let port = options.port ?? 0;
  if (port !== 0 && (await answersAsRedis(port))) {
    const chosen = await freePort();
    note(`port ${port} is already taken by another Redis; using ${chosen} instead`);
    port = chosen;
  }
  if (port === 0) port = await freePort();
  const persistence = options.persistence ?? true;
  const args = [
    ...(password === undefined ? [] : [writePasswordConfig(dataDir, password)]),
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dataDir,
    "--pidfile",
    pidFile,
    "--daemonize",
    "no",
    "--logfile",
    join(dataDir, "redis.log"),
    "--appendonly",
    persistence ? "yes" : "no",
    ...(persistence ? [] : ["--save", ""]),
  ];
  const binary = options.binary ?? "redis-server";
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const spawnError = new Promise<Error>((r) => child.once("error", r));
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    const outcome = await Promise.race([
      pingRedis(port, "127.0.0.1", 500, password).then((ok) => (ok ? "up" : "down")),
      exited.then(() => "exited" as const),
      spawnError.then((e) => e),
    ]);
    if (outcome === "up") break;
    if (outcome instanceof Error) {
      const missing = (outcome as NodeJS.ErrnoException).code === "ENOENT";
      throw new RedisServerError(
        missing
          ? `[redis] \`${binary}\` was not found. Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to an existing Redis.`
          : `[redis] could not start \`${binary}\`: ${outcome.message}`,
        { cause: outcome },
      );
    }
    if (outcome === "exited") {
      const log = existsSync(join(dataDir, "redis.log"))
        ? readFileSync(join(dataDir, "redis.log"), "utf8").slice(-1500)
        : "";
      throw new RedisServerError(`[redis] redis-server exited at start (port ${port}):\n${stderr}${log}`);
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new RedisServerError(`[redis] redis-server did not answer PING on port ${port} within the start timeout`);
    }
    await sleep(50);
  }
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  const auth = password === undefined ? "" : `:${password}@`;
  return { url: `redis://${auth}127.0.0.1:${port}`, port, pid: child.pid as number, dataDir, child, stop };
}

/**
 * `<dataDir>/redis.conf` holding only `requirepass`, 0600 (chmod too: an older file may have been wider), with
 * the data dir 0700 (the AOF holds the queue). The rest of the settings stay in argv, which anyone may read.
 */
function writePasswordConfig(dataDir: string, password: string): string {
  chmodSync(dataDir, 0o700);
  const path = join(dataDir, "redis.conf");
  writeFileSync(
    path,
    `# written by forgehand at each start; the password is also in ./password\nrequirepass ${password}\n`,
    {
      mode: 0o600,
    },
  );
  chmodSync(path, 0o600);
  return path;
}
