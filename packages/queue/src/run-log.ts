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

/** Appends one line (capped stream, `XADD MAXLEN ~`) and returns its id; always refreshes the TTL. */
export async function appendRunLog(
  redis: Redis,
  prefix: string,
  runId: string,
  stream: LogStream,
  line: string,
  maxLines = RUN_LOG_MAX_LINES,
): Promise<string> {
  return addLine(redis, runLogKey(prefix, runId), stream, line, maxLines, true);
}

async function addLine(
  redis: Redis,
  key: string,
  stream: LogStream,
  line: string,
  maxLines: number,
  refreshTtl: boolean,
): Promise<string> {
  const text = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… [cut]` : line;
  const xadd = ["MAXLEN", "~", String(maxLines), "*", "s", stream, "l", text] as const;
  if (!refreshTtl) return String(await redis.xadd(key, ...xadd));
  const [[, id] = []] =
    (await redis
      .multi()
      .xadd(key, ...xadd)
      .expire(key, LOG_TTL_S)
      .exec()) ?? [];
  return String(id);
}

/** How often a writer refreshes one log's TTL; the TTL is 30 days, so a minute is plenty. */
export const LOG_TTL_REFRESH_MS = 60_000;
/** Runs remembered before old entries are dropped (a dropped run just refreshes again). */
const REFRESH_MEMORY = 1_000;

/** Appends log lines, refreshing each log's TTL at most once per `refreshMs` per run. */
export type RunLogWriter = (runId: string, stream: LogStream, line: string) => Promise<string>;

/**
 * An agent prints a line at a time; `MULTI` + `XADD` + `EXPIRE` per line was three round
 * trips of work for one. The first line of a run (in this process) sets the TTL, so a log
 * never exists without one; later lines are a bare `XADD` (which keeps the TTL) until
 * `refreshMs` has passed. Lines keep their order: one connection runs commands in call order.
 */
export function createRunLogWriter(
  redis: Redis,
  prefix: string,
  opts: {
    refreshMs?: number;
    maxLines?: number;
    /** Applied to every line before it is stored, so neither the log nor its SSE tail ever holds a secret. */
    redact?: (line: string) => string;
  } = {},
): RunLogWriter {
  const redact = opts.redact ?? ((line: string) => line);
  const refreshMs = opts.refreshMs ?? LOG_TTL_REFRESH_MS;
  const maxLines = opts.maxLines ?? RUN_LOG_MAX_LINES;
  const refreshedAt = new Map<string, number>();
  return async (runId, stream, line) => {
    const now = Date.now();
    const last = refreshedAt.get(runId);
    const refresh = last === undefined || now - last >= refreshMs;
    if (refresh) {
      if (refreshedAt.size >= REFRESH_MEMORY)
        for (const [id, at] of refreshedAt) if (now - at >= refreshMs) refreshedAt.delete(id);
      refreshedAt.set(runId, now);
    }
    try {
      return await addLine(redis, runLogKey(prefix, runId), stream, redact(line), maxLines, refresh);
    } catch (error) {
      // The TTL was not set: let the next line try again.
      if (refresh && refreshedAt.get(runId) === now) refreshedAt.delete(runId);
      throw error;
    }
  };
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

/** A live reader of one run's log over its own connection; `close()` it when done. */
export interface RunLogTail {
  /** Waits up to `blockMs` for lines after `after` (`"0"` for the start, `"$"` for only new ones); `[]` once closed. */
  read(after: string, blockMs: number): Promise<LogEntry[]>;
  /** Closes the connection; a `read` in flight resolves `[]`. Safe to call twice. */
  close(): void;
}

/**
 * Opens one blocking connection for a whole live tail: a blocking XREAD would stall every
 * other command queued on a shared client, and a fresh connection per read (about one a
 * second per viewer) churned connections.
 */
export function openRunLogTail(redis: Redis, prefix: string, runId: string): RunLogTail {
  const conn = redis.duplicate({ maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false });
  conn.on("error", () => {});
  const key = runLogKey(prefix, runId);
  let closed = false;
  return {
    async read(after, blockMs) {
      if (closed) return [];
      try {
        const res = (await conn.xread("COUNT", 1_000, "BLOCK", Math.max(1, blockMs), "STREAMS", key, after)) as
          | [string, RawEntry[]][]
          | null;
        return res?.[0]?.[1].map(toEntry) ?? [];
      } catch (error) {
        if (closed) return [];
        throw error;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      conn.disconnect();
    },
  };
}

/** One blocking read on a short-lived connection (for a single wait; a live stream wants `openRunLogTail`). */
export async function tailRunLog(
  redis: Redis,
  prefix: string,
  runId: string,
  after: string,
  blockMs: number,
): Promise<LogEntry[]> {
  const tail = openRunLogTail(redis, prefix, runId);
  try {
    return await tail.read(after, blockMs);
  } finally {
    tail.close();
  }
}
