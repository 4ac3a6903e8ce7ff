import type { Redis } from "ioredis";

/** Where a log line came from: the agent's streams, or forgehand itself (`system`). */
export type LogStream = "stdout" | "stderr" | "system";

/** One line of a run log; `id` is the Redis stream id, usable as `after`. */
export interface LogEntry {
  id: string;
  stream: LogStream;
  line: string;
  /** Milliseconds since the epoch (from the stream id). */
  at: number;
}

/** How many lines a run log keeps (approximately: `XADD MAXLEN ~` trims in whole nodes). */
export const RUN_LOG_MAX_LINES = 5_000;
/** Longest line kept; longer ones are cut so one runaway line cannot fill Redis. */
const MAX_LINE_CHARS = 8_000;
/** Logs outlive their runs by this long, then Redis drops them. */
const LOG_TTL_S = 30 * 24 * 3600;

/** Key of the capped stream holding one run's log. */
export function runLogKey(prefix: string, runId: string): string {
  return `${prefix}:run:${runId}:log`;
}

/** Appends one line (capped stream, `XADD MAXLEN ~`) and returns its id. */
export async function appendRunLog(
  redis: Redis,
  prefix: string,
  runId: string,
  stream: LogStream,
  line: string,
  maxLines = RUN_LOG_MAX_LINES,
): Promise<string> {
  const key = runLogKey(prefix, runId);
  const text = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… [cut]` : line;
  const [[, id] = []] =
    (await redis
      .multi()
      .xadd(key, "MAXLEN", "~", String(maxLines), "*", "s", stream, "l", text)
      .expire(key, LOG_TTL_S)
      .exec()) ?? [];
  return String(id);
}

type RawEntry = [id: string, fields: string[]];

function toEntry([id, fields]: RawEntry): LogEntry {
  const get = (name: string) => {
    const i = fields.indexOf(name);
    return i >= 0 && i % 2 === 0 ? (fields[i + 1] ?? "") : "";
  };
  return { id, stream: (get("s") || "system") as LogStream, line: get("l"), at: Number(id.split("-")[0]) };
}

/** Reads lines oldest first, strictly after `after` (a stream id) when given. */
export async function readRunLog(
  redis: Redis,
  prefix: string,
  runId: string,
  opts: { after?: string; count?: number } = {},
): Promise<LogEntry[]> {
  const start = opts.after ? `(${opts.after}` : "-";
  const raw = (await redis.xrange(runLogKey(prefix, runId), start, "+", "COUNT", opts.count ?? 1_000)) as RawEntry[];
  return raw.map(toEntry);
}

/**
 * Waits up to `blockMs` for lines after `after` (`"0"` for the start, `"$"` for only new ones).
 * Uses a short-lived duplicate connection: a blocking XREAD would stall every other
 * command queued on a shared client.
 */
export async function tailRunLog(
  redis: Redis,
  prefix: string,
  runId: string,
  after: string,
  blockMs: number,
): Promise<LogEntry[]> {
  const conn = redis.duplicate({ maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false });
  conn.on("error", () => {});
  try {
    const res = (await conn.xread(
      "COUNT",
      1_000,
      "BLOCK",
      Math.max(1, blockMs),
      "STREAMS",
      runLogKey(prefix, runId),
      after,
    )) as [string, RawEntry[]][] | null;
    return res?.[0]?.[1].map(toEntry) ?? [];
  } finally {
    conn.disconnect();
  }
}
