import type { Redis } from "ioredis";

/** Budget limits; the defaults are GitHub's documented secondary limits (per installation or token). */
export interface WriteBudgetLimits {
  /** Minimum spacing between two writes of one scope. @defaultValue 1000 */
  spacingMs: number;
  /** Content-creating writes per rolling minute. @defaultValue 80 */
  createsPerMinute: number;
  /** Content-creating writes per rolling hour. @defaultValue 500 */
  createsPerHour: number;
  /** A `low` write is declined when more than this much writing is queued ahead of it. @defaultValue 2000 */
  lowMaxWaitMs: number;
}

export const GITHUB_WRITE_LIMITS: WriteBudgetLimits = {
  spacingMs: 1_000,
  createsPerMinute: 80,
  createsPerHour: 500,
  lowMaxWaitMs: 2_000,
};

// Reserves the next write slot of one scope atomically: every runner asks the same Redis, so N runners on one
// installation queue behind each other and runners on different installations never do. The time is Redis'
// own (TIME), so runner clocks do not matter. Returns the wait in ms, or -wait when a low write is declined.
// KEYS[1] hash {next}, KEYS[2] zset of content-creating slots (score = slot ms).
// ARGV: creates(0|1) low(0|1) spacing perMinute perHour lowMaxWait member
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = math.max(now, tonumber(redis.call('HGET', KEYS[1], 'next') or '0'))
if ARGV[1] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 3600000)
  for _, w in ipairs({ { 60000, tonumber(ARGV[4]) }, { 3600000, tonumber(ARGV[5]) } }) do
    local scores = redis.call('ZRANGEBYSCORE', KEYS[2], slot - w[1], '+inf', 'WITHSCORES')
    local n = #scores / 2
    if n >= w[2] then
      slot = math.max(slot, tonumber(scores[(n - w[2]) * 2 + 2]) + w[1])
    end
  end
end
local wait = slot - now
if ARGV[2] == '1' and wait > tonumber(ARGV[6]) then return -wait end
redis.call('HSET', KEYS[1], 'next', slot + tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], wait + 3600000)
if ARGV[1] == '1' then
  redis.call('ZADD', KEYS[2], slot, ARGV[7])
  redis.call('PEXPIRE', KEYS[2], wait + 3600000)
end
return wait`;

const PAUSE = `
local t = redis.call('TIME')
local untilMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
if untilMs > cur then redis.call('HSET', KEYS[1], 'next', untilMs) end
redis.call('PEXPIRE', KEYS[1], 3600000)
return 1`;

/** The shared write budget over Redis (the forge's WriteBudget shape; apps/cli passes it to the forge clients). */
export interface RedisWriteBudget {
  take(scope: string, request: { creates: boolean; priority: "urgent" | "normal" | "low" }): Promise<void>;
  pause(scope: string, ms: number): Promise<void>;
}

let seq = 0;

/**
 * A write budget per scope (an installation or a token), shared in Redis by every webhook and runner process.
 * `onDeclined` builds the error a declined low write rejects with (the forge's WriteDeferredError).
 */
export function createRedisWriteBudget(
  redis: Redis,
  prefix: string,
  opts: { limits?: Partial<WriteBudgetLimits>; onDeclined: (scope: string, waitMs: number) => Error },
): RedisWriteBudget {
  const limits = { ...GITHUB_WRITE_LIMITS, ...opts.limits };
  const keys = (scope: string) => [`${prefix}:forge-writes:${scope}`, `${prefix}:forge-creates:${scope}`];
  return {
    async take(scope, request) {
      const member = `${process.pid}:${Date.now()}:${seq++}`;
      const wait = Number(
        await redis.eval(
          TAKE,
          2,
          ...keys(scope),
          request.creates ? "1" : "0",
          request.priority === "low" ? "1" : "0",
          String(limits.spacingMs),
          String(limits.createsPerMinute),
          String(limits.createsPerHour),
          String(limits.lowMaxWaitMs),
          member,
        ),
      );
      if (wait < 0) throw opts.onDeclined(scope, -wait);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    },
    async pause(scope, ms) {
      await redis.eval(PAUSE, 1, keys(scope)[0] ?? "", String(Math.max(0, Math.round(ms))));
    },
  };
}
