import { Cluster, Redis, type RedisOptions } from "ioredis";
import { parseRedisUrl, type RedisTarget } from "./redis-url";

/** Role decides failure behaviour: the webhook fails fast (answers 503), workers wait for Redis to return. */
export type RedisRole = "webhook" | "worker" | "client";

/** How many replicas must confirm a write on each connection createRedis made (see awaitReplicas). */
const replicaAcksOf = new WeakMap<object, number>();

/** After a failover a client may still be talking to the demoted primary: reconnect (and resend) on READONLY. */
function reconnectOnReadonly(error: Error): 2 | false {
  return error.message.startsWith("READONLY") ? 2 : false;
}

function roleOptions(role: RedisRole): RedisOptions {
  return role === "worker"
    ? { maxRetriesPerRequest: null, enableReadyCheck: true }
    : {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        connectTimeout: 2_000,
        commandTimeout: 2_000,
        retryStrategy: (times) => Math.min(times * 200, 2_000),
      };
}

/**
 * Creates an ioredis connection for a role. Workers need `maxRetriesPerRequest: null`
 * (BullMQ requirement for blocking commands); the webhook must not queue commands
 * while Redis is down, or a delivery would hang past the forge's 5-10 s deadline.
 * `url` may name a Sentinel-managed primary or a Cluster (redis-url.ts). A Cluster connection is
 * returned under the `Redis` type: every command forgehand and BullMQ send exists on both, and
 * with a `{hash-tag}` prefix every key of a script or MULTI lives in one slot.
 */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const target = parseRedisUrl(url);
  const base = { lazyConnect: false, ...roleOptions(role), ...extra };
  const conn = connect(target, base);
  replicaAcksOf.set(conn, target.replicaAcks);
  // An ioredis 'error' nobody listens to crashes the process ("Unhandled error event" on every Redis restart).
  // Every connection gets this one; it keeps the last error for /readyz, callers add their own logging.
  conn.on("error", (error: Error) => lastErrorOf.set(conn, { message: error.message, at: Date.now() }));
  conn.on("ready", () => lastErrorOf.delete(conn));
  return conn;
}

const lastErrorOf = new WeakMap<object, { message: string; at: number }>();

/** The last error a createRedis connection reported since it was last ready, if any (for /readyz). */
export function lastRedisError(conn: object): { message: string; at: number } | undefined {
  return lastErrorOf.get(conn);
}

function connect(target: RedisTarget, base: RedisOptions): Redis {
  switch (target.kind) {
    case "single":
      return new Redis(target.url, base);
    case "sentinel":
      return new Redis({
        ...base,
        ...target.options,
        sentinels: target.sentinels,
        name: target.name,
        // No `failoverDetector`: in ioredis 5.11 its +switch-master handler disconnects the connector even while a
        // reconnect is resolving the new primary, and that reconnect then ends the connection for good (status
        // "end", every later command "not connected"; seen under load when the primary is SIGKILLed). A dead
        // primary closes the socket anyway, and a demoted live one answers READONLY, which reconnects below.
        reconnectOnError: reconnectOnReadonly,
        sentinelRetryStrategy: (times) => Math.min(times * 200, 2_000),
      });
    case "cluster": {
      const { lazyConnect, maxRetriesPerRequest, enableOfflineQueue, retryStrategy, ...node } = base;
      return new Cluster(target.nodes, {
        lazyConnect,
        ...(enableOfflineQueue === false ? { enableOfflineQueue } : {}),
        ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
        redisOptions: { ...node, ...target.options, maxRetriesPerRequest },
      }) as unknown as Redis;
    }
  }
}

/** Whether `url` names a Redis Cluster (whose key prefix must then carry a `{hash-tag}`). */
export function isClusterUrl(url: string): boolean {
  return parseRedisUrl(url).kind === "cluster";
}

/**
 * Waits until the configured number of replicas hold every write this connection made so far (Redis
 * `WAIT`). A failover can only promote a replica, so what must be covered is the replicas connected now:
 * with fewer connected than configured (the other one is the primary that just died), all of them must
 * confirm; with none connected there is no replica a failover could promote without the write. Resolves
 * false when they did not confirm within `timeoutMs` — the write is on the primary but could be lost in
 * a failover, so the caller must not count it as safe.
 */
export async function awaitReplicas(redis: Redis, timeoutMs = 1_000): Promise<boolean> {
  const wanted = replicaAcksOf.get(redis) ?? 0;
  if (wanted === 0) return true;
  const role = (await redis.call("ROLE")) as [string, number, unknown[]];
  const connected = role[0] === "master" && Array.isArray(role[2]) ? role[2].length : 0;
  const needed = Math.min(wanted, connected);
  if (needed === 0) return true;
  const acked = Number(await redis.call("WAIT", String(needed), String(timeoutMs)));
  return acked >= needed;
}

/** Remembers that writes on `conn` (e.g. a BullMQ-owned client) need `wanted` replica confirmations. */
export function requireReplicaAcks(conn: object, wanted: number): void {
  replicaAcksOf.set(conn, wanted);
}

/** The replica confirmations createRedis configured for `conn` (0 when none). */
export function replicaAcks(conn: object): number {
  return replicaAcksOf.get(conn) ?? 0;
}
