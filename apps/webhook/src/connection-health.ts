import { lastRedisError } from "@forgehand/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";

/** One connection's answer on /readyz: `ok`, or why not (its ioredis status and last error). */
export interface ConnectionHealth {
  status: "ok" | "unavailable";
  state?: string;
  error?: string;
}

const PING_MS = 1_000;

async function pingWithin(redis: Redis): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      redis.ping().then(
        (r) => r === "PONG",
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), PING_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function healthOf(conn: Redis | Queue): Promise<ConnectionHealth> {
  // A queue's client promise only settles once it connected; a never-ready one is not awaited.
  const redis =
    "status" in conn
      ? conn
      : ((await Promise.race([conn.client, new Promise<undefined>((r) => setTimeout(() => r(undefined), PING_MS))])) as
          | Redis
          | undefined);
  if (!redis) return { status: "unavailable", state: "connecting" };
  const last = lastRedisError(redis);
  if (redis.status === "ready" && (await pingWithin(redis))) return { status: "ok" };
  return { status: "unavailable", state: redis.status, ...(last ? { error: last.message } : {}) };
}

/** Pings every named connection at once, so /readyz says which one is down instead of only "unavailable". */
export async function connectionHealth(
  conns: Record<string, Redis | Queue>,
): Promise<Record<string, ConnectionHealth>> {
  const entries = await Promise.all(Object.entries(conns).map(async ([name, c]) => [name, await healthOf(c)] as const));
  return Object.fromEntries(entries);
}
