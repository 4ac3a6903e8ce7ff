import { issueKey, RunRecord, RunState } from "@forgehand/core";
import type { Redis } from "ioredis";
import {
  createRunLogWriter,
  type LogEntry,
  type LogStream,
  openRunLogTail,
  type RunLogTail,
  readRunLog,
  tailRunLog,
} from "./run-log";

/** Run records in Redis, shared by every runner and webhook instance. */
export interface RunStore {
  get(id: string): Promise<RunRecord | null>;
  /** Most recent runs first. */
  list(opts?: { limit?: number }): Promise<RunRecord[]>;
  /** Creates the record unless one with this id exists; returns what is stored and whether it was new. */
  create(record: RunRecord): Promise<{ record: RunRecord; created: boolean }>;
  /**
   * Merges `patch` atomically (Lua). A terminal run never changes state again: a patch
   * carrying a state for a terminal run is refused whole (`applied: false`).
   */
  update(id: string, patch: Partial<RunRecord>): Promise<{ record: RunRecord | null; applied: boolean }>;
  /** The newest run of one issue (`issueKey(ref)`), live or not. */
  latestForIssue(issue: string): Promise<RunRecord | null>;
  /** Appends one line; the log's TTL is refreshed at most once per `logTtlRefreshMs` per run. */
  appendLog(id: string, stream: LogStream, line: string): Promise<string>;
  readLog(id: string, opts?: { after?: string; count?: number }): Promise<LogEntry[]>;
  /** Blocks up to `blockMs` for lines after `after` (`"0"` = from the start). */
  tailLog(id: string, after: string, blockMs: number): Promise<LogEntry[]>;
  /** One blocking connection for a whole live tail (an SSE stream); close it when the viewer leaves. */
  openTail(id: string): RunLogTail;
}

export interface RunStoreOptions {
  /** How often one run's log TTL is refreshed by this store. @defaultValue LOG_TTL_REFRESH_MS (1 minute) */
  logTtlRefreshMs?: number;
  /**
   * The process's redactor (`createRedactor(collectSecrets(…)).redact`): applied to every log line and to
   * the text fields of every record written (reason, lastActions, trigger, sessionId, …), so neither Redis,
   * `/api/runs` nor the SSE tail ever holds a secret an agent printed.
   */
  redact?: (text: string) => string;
}

/** Fields that identify a run (keys, indexes, lookups): never rewritten, and never agent output. */
const IDENTITY_FIELDS = new Set(["id", "forge", "repo", "stage", "state", "runner"]);

/** A copy of `patch` with every string (and string in an array) outside the identity fields redacted. */
function redactFields<T extends Record<string, unknown>>(patch: T, redact: (text: string) => string): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (IDENTITY_FIELDS.has(k)) out[k] = v;
    else if (typeof v === "string") out[k] = redact(v);
    else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === "string" ? redact(x) : x));
    else out[k] = v;
  }
  return out as T;
}

/** Runs kept in the list indexes; older ones drop out (their records expire on their own). */
const INDEX_CAP = 5_000;
const RECORD_TTL_S = 30 * 24 * 3600;

/*
 * Create a run record if absent.
 * Input:
 *   KEYS[1] run hash, KEYS[2] global index zset, KEYS[3] issue index zset
 *   ARGV[1] createdAt (score), ARGV[2] run id, ARGV[3] ttl seconds, ARGV[4] index cap,
 *   ARGV[5..] field, json-value pairs
 * Output:
 *   1 created, 0 already existed (nothing written)
 */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[4]) - 1)
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -101)
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1`;

/*
 * Merge a patch into a run record, never moving a terminal run to another state.
 * Input:
 *   KEYS[1] run hash
 *   ARGV[1] ..: field, json-value pairs
 * Output:
 *   -1 no such run, 0 refused (terminal run, patch has a state), 1 applied
 */
const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local cur = redis.call('HGET', KEYS[1], 'state')
local live = cur == '"queued"' or cur == '"running"'
if not live then
  for i = 1, #ARGV, 2 do
    if ARGV[i] == 'state' then return 0 end
  end
end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1`;

function flatten(obj: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out.push(k, JSON.stringify(v));
  return out;
}

function decode(hash: Record<string, string>): RunRecord | null {
  if (!hash || Object.keys(hash).length === 0) return null;
  const obj: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(hash)) {
    try {
      obj[k] = JSON.parse(v);
    } catch {
      obj[k] = v;
    }
  }
  const parsed = RunRecord.safeParse(obj);
  return parsed.success ? parsed.data : null;
}

/** Creates the run store over one Redis connection; every key is `${prefix}:run…`. */
export function createRunStore(redis: Redis, prefix: string, opts: RunStoreOptions = {}): RunStore {
  const { redact } = opts;
  const appendLog = createRunLogWriter(redis, prefix, {
    refreshMs: opts.logTtlRefreshMs,
    ...(redact ? { redact } : {}),
  });
  const clean = <T extends Record<string, unknown>>(patch: T): T => (redact ? redactFields(patch, redact) : patch);
  const runKey = (id: string) => `${prefix}:run:${id}`;
  const indexKey = `${prefix}:runs`;
  const issueIndexKey = (issue: string) => `${prefix}:runs:issue:${issue}`;

  async function get(id: string) {
    return decode(await redis.hgetall(runKey(id)));
  }

  async function getMany(ids: string[]) {
    if (ids.length === 0) return [];
    const pipe = redis.pipeline();
    for (const id of ids) pipe.hgetall(runKey(id));
    const res = (await pipe.exec()) ?? [];
    return res.map(([, h]) => decode(h as Record<string, string>)).filter((r): r is RunRecord => r !== null);
  }

  return {
    get,
    async list(opts = {}) {
      const limit = Math.max(1, Math.min(opts.limit ?? 50, 1_000));
      return getMany(await redis.zrevrange(indexKey, 0, limit - 1));
    },
    async create(record) {
      const rec = clean(RunRecord.parse(record));
      const issue = issueKey({ repo: { forge: rec.forge, fullName: rec.repo }, number: rec.issue });
      const created = await redis.eval(
        CREATE,
        3,
        runKey(rec.id),
        indexKey,
        issueIndexKey(issue),
        String(rec.createdAt),
        rec.id,
        String(RECORD_TTL_S),
        String(INDEX_CAP),
        ...flatten(rec),
      );
      if (created === 1) return { record: rec, created: true };
      return { record: (await get(rec.id)) ?? rec, created: false };
    },
    async update(id, patch) {
      const { id: _ignored, ...rest } = patch;
      if (rest.state !== undefined && !RunState.safeParse(rest.state).success)
        throw new Error(`[runs] Expected a run state, got \`${String(rest.state)}\``);
      const args = flatten(clean(rest));
      if (args.length === 0) return { record: await get(id), applied: false };
      const res = await redis.eval(UPDATE, 1, runKey(id), ...args);
      return { record: await get(id), applied: res === 1 };
    },
    async latestForIssue(issue) {
      const [id] = await redis.zrevrange(issueIndexKey(issue), 0, 0);
      return id ? get(id) : null;
    },
    appendLog,
    readLog: (id, opts) => readRunLog(redis, prefix, id, opts),
    tailLog: (id, after, blockMs) => tailRunLog(redis, prefix, id, after, blockMs),
    openTail: (id) => openRunLogTail(redis, prefix, id),
  };
}
