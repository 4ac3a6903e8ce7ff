import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { setPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port";

/** A real Sentinel group: one primary, one replica and three redis-sentinel processes on loopback. */
export interface SentinelGroup {
  /** `redis+sentinel://…/<name>` for createRedis. */
  url: string;
  name: string;
  ports: { primary: number; replica: number; sentinels: number[] };
  /** SIGKILL the current primary (whatever the sentinels elected last); returns its port. */
  killPrimary(): Promise<number>;
  /** Sends a signal to one of the group's redis-server processes (SIGSTOP/SIGCONT to make a replica lag). */
  signal(port: number, signal: NodeJS.Signals): void;
  /** The port most sentinels name as primary now (0 when none answers). */
  primaryPort(): Promise<number>;
  /** `SENTINEL FAILOVER` on every sentinel: promote a replica now, without waiting for the sentinels to agree. */
  forceFailover(): Promise<void>;
  stop(): Promise<void>;
}

async function untilPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    r.on("error", () => {});
    try {
      await r.connect();
      if ((await r.ping()) === "PONG") return;
    } catch {
      // not up yet
    } finally {
      r.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`[test] redis on port ${port} did not answer PING`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * Starts the group and waits until every sentinel knows the replica, so a failover can happen.
 * `downAfterMs` is how long a silent primary takes to be judged down (Redis' default is 30 s).
 */
export async function startSentinelGroup(opts: { downAfterMs?: number; name?: string } = {}): Promise<SentinelGroup> {
  // A name of its own: a stray sentinel from another run that finds a reused port must not take this primary as its own.
  const name = opts.name ?? `fhprimary-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), "fh-sentinel-"));
  const procs = new Map<number, ChildProcess>();
  const start = (bin: string, args: string[], port: number) => {
    const child = spawn(bin, args, { stdio: "ignore" });
    procs.set(port, child);
    // On a starved CI machine a sentinel whose timer runs >2 s late enters TILT mode and does nothing for 30 s;
    // a higher priority (root only; ignored elsewhere) keeps the group's own clock honest.
    try {
      if (child.pid) setPriority(child.pid, -10);
    } catch {}
    return child;
  };
  const primary = await freePort();
  const replica = await freePort();
  const base = (port: number) => ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  start("redis-server", base(primary), primary);
  start("redis-server", [...base(replica), "--replicaof", "127.0.0.1", String(primary)], replica);
  await Promise.all([untilPing(primary), untilPing(replica)]);
  const sentinels: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const sdir = join(dir, `s${i}`);
    mkdirSync(sdir);
    // Sentinel rewrites its own config file (it records the replicas and the other sentinels there).
    writeFileSync(
      join(sdir, "sentinel.conf"),
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${sdir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primary} 2`,
        `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1_000}`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        "",
      ].join("\n"),
    );
    start("redis-sentinel", [join(sdir, "sentinel.conf")], port);
    sentinels.push(port);
  }
  await Promise.all(sentinels.map((p) => untilPing(p)));
  const ask = async (port: number, ...args: string[]) => {
    const r = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 1, retryStrategy: () => null });
    r.on("error", () => {});
    try {
      return await r.call("SENTINEL", ...args);
    } finally {
      r.disconnect();
    }
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const known = await Promise.all(
      sentinels.map((p) =>
        ask(p, "replicas", name).then(
          (r) => (r as unknown[]).length,
          () => 0,
        ),
      ),
    );
    const peers = await Promise.all(
      sentinels.map((p) =>
        ask(p, "sentinels", name).then(
          (r) => (r as unknown[]).length,
          () => 0,
        ),
      ),
    );
    if (known.every((n) => n >= 1) && peers.every((n) => n >= 2)) break;
    if (Date.now() > deadline) throw new Error("[test] the sentinels did not discover the replica and each other");
    await new Promise((res) => setTimeout(res, 100));
  }
  // What most sentinels say: one in TILT (or that missed the switch) may still name the old primary.
  const primaryPort = async () => {
    const named = await Promise.all(
      sentinels.map((p) =>
        ask(p, "get-master-addr-by-name", name).then(
          (r) => Number((r as string[])[1]),
          () => 0,
        ),
      ),
    );
    const votes = new Map<number, number>();
    for (const port of named) if (port) votes.set(port, (votes.get(port) ?? 0) + 1);
    return [...votes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
  };
  return {
    url: `redis+sentinel://${sentinels.map((p) => `127.0.0.1:${p}`).join(",")}/${name}`,
    name,
    ports: { primary, replica, sentinels },
    primaryPort,
    forceFailover: async () => {
      // Any one that is not in TILT and not already mid-failover starts it; the others answer an error.
      await Promise.all(sentinels.map((p) => ask(p, "failover", name).catch(() => {})));
    },
    signal: (port, sig) => void procs.get(port)?.kill(sig),
    async killPrimary() {
      const port = await primaryPort();
      procs.get(port)?.kill("SIGKILL");
      return port;
    },
    async stop() {
      for (const child of procs.values())
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
