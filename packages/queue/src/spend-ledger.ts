import type { Redis } from "ioredis";

/** The caps of `budgets:` (USD); an absent cap is no cap. */
export interface SpendCaps {
  perIssueUsd?: number;
  perRepoDailyUsd?: number;
  installationDailyUsd?: number;
}

/** Whose spend a run adds to: the issue (`issueKey(ref)`) and the repository (`forge:owner/name`). */
export interface SpendScope {
  issue: string;
  repo: string;
}

/** The spend scope of a run on `ref`: its issue and its repository, forge-qualified. */
export function spendScope(ref: { repo: { forge: string; fullName: string }; number: number }): SpendScope {
  return {
    issue: `${ref.repo.forge}:${ref.repo.fullName}#${ref.number}`,
    repo: `${ref.repo.forge}:${ref.repo.fullName}`,
  };
}

/** A cap that is reached: which one, its limit, what is spent, and when it resets (ms; none for the issue cap). */
export interface CapReached {
  cap: keyof SpendCaps;
  limitUsd: number;
  spentUsd: number;
  resetsAt?: number;
}

export interface SpendTotals {
  issueUsd: number;
  repoDayUsd: number;
  installationDayUsd: number;
}

/** One repository's spend on one UTC day. */
export interface DailySpend {
  day: string;
  repo: string;
  usd: number;
}

export interface SpendLedger {
  /** The first cap the scope has already reached, if any (a run must not start then). */
  check(scope: SpendScope, now?: number): Promise<CapReached | undefined>;
  /** Adds `deltaUsd` (negative: a correction to the CLI's own figure) atomically; returns totals and a cap now reached. */
  add(scope: SpendScope, deltaUsd: number, now?: number): Promise<{ totals: SpendTotals; reached?: CapReached }>;
  /** Spend per repository for the last `days` UTC days (today first), and each day's installation total. */
  daily(days?: number, now?: number): Promise<{ repos: DailySpend[]; totals: { day: string; usd: number }[] }>;
}

/** Day hashes live two days past their day (yesterday stays readable); issue totals 90 days past the last spend. */
const DAY_TTL_S = 2 * 86_400;
const ISSUE_TTL_S = 90 * 86_400;
const TOTAL_FIELD = "*";

/**
 * KEYS: issue total, day hash. ARGV: delta, repo field, day expiry (unix s), issue ttl (s), caps issue / repo /
 * installation (0 = none). One script, so concurrent runners never lose an increment and every runner sees the
 * same totals. Returns the three totals and the first cap reached (or "").
 */
const ADD = `
local delta = tonumber(ARGV[1])
local issue = tonumber(redis.call('INCRBYFLOAT', KEYS[1], delta))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
local repo = tonumber(redis.call('HINCRBYFLOAT', KEYS[2], ARGV[2], delta))
local all = tonumber(redis.call('HINCRBYFLOAT', KEYS[2], '${TOTAL_FIELD}', delta))
redis.call('EXPIREAT', KEYS[2], tonumber(ARGV[3]))
local reached = ''
local ci, cr, ca = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if ci > 0 and issue >= ci then reached = 'perIssueUsd'
elseif cr > 0 and repo >= cr then reached = 'perRepoDailyUsd'
elseif ca > 0 and all >= ca then reached = 'installationDailyUsd' end
return { tostring(issue), tostring(repo), tostring(all), reached }
`;

/** The UTC day of `ms` as `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The start of the next UTC day after `ms`. */
export function nextUtcMidnight(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

export function spendIssueKey(prefix: string, issue: string): string {
  return `${prefix}:spend:issue:${issue}`;
}

export function spendDayKey(prefix: string, day: string): string {
  return `${prefix}:spend:day:${day}`;
}

/** Spend counters shared by every runner and the webhook (`/metrics`), in Redis under the queue prefix. */
export function createSpendLedger(redis: Redis, prefix: string, caps: SpendCaps): SpendLedger {
  const firstReached = (totals: SpendTotals, now: number, exceeds: (spent: number, cap: number) => boolean) => {
    const resetsAt = nextUtcMidnight(now);
    const rows: [keyof SpendCaps, number, number | undefined][] = [
      ["perIssueUsd", totals.issueUsd, undefined],
      ["perRepoDailyUsd", totals.repoDayUsd, resetsAt],
      ["installationDailyUsd", totals.installationDayUsd, resetsAt],
    ];
    for (const [cap, spentUsd, resets] of rows) {
      const limitUsd = caps[cap];
      if (limitUsd !== undefined && exceeds(spentUsd, limitUsd))
        return { cap, limitUsd, spentUsd, ...(resets !== undefined ? { resetsAt: resets } : {}) } as CapReached;
    }
    return undefined;
  };

  return {
    async check(scope, now = Date.now()) {
      const [issue, day] = await Promise.all([
        redis.get(spendIssueKey(prefix, scope.issue)),
        redis.hmget(spendDayKey(prefix, utcDay(now)), scope.repo, TOTAL_FIELD),
      ]);
      const totals = { issueUsd: usd(issue), repoDayUsd: usd(day[0]), installationDayUsd: usd(day[1]) };
      return firstReached(totals, now, (spent, cap) => spent >= cap);
    },
    async add(scope, deltaUsd, now = Date.now()) {
      if (!Number.isFinite(deltaUsd)) throw new Error(`[spend] Expected a finite USD delta, got \`${deltaUsd}\``);
      const reply = (await redis.eval(
        ADD,
        2,
        spendIssueKey(prefix, scope.issue),
        spendDayKey(prefix, utcDay(now)),
        deltaUsd.toFixed(9),
        scope.repo,
        String(Math.ceil(nextUtcMidnight(now) / 1000) + DAY_TTL_S),
        String(ISSUE_TTL_S),
        String(caps.perIssueUsd ?? 0),
        String(caps.perRepoDailyUsd ?? 0),
        String(caps.installationDailyUsd ?? 0),
      )) as [string, string, string, string];
      const totals = { issueUsd: usd(reply[0]), repoDayUsd: usd(reply[1]), installationDayUsd: usd(reply[2]) };
      // The script named the cap; the same rule recomputed here gives its figures.
      const reached = reply[3] ? firstReached(totals, now, (spent, cap) => spent >= cap) : undefined;
      return reached ? { totals, reached } : { totals };
    },
    async daily(days = 2, now = Date.now()) {
      const repos: DailySpend[] = [];
      const totals: { day: string; usd: number }[] = [];
      for (let i = 0; i < days; i++) {
        const day = utcDay(now - i * 86_400_000);
        const hash = await redis.hgetall(spendDayKey(prefix, day));
        for (const [field, raw] of Object.entries(hash)) {
          if (field === TOTAL_FIELD) totals.push({ day, usd: usd(raw) });
          else repos.push({ day, repo: field, usd: usd(raw) });
        }
      }
      repos.sort((a, b) => (a.day === b.day ? b.usd - a.usd : a.day < b.day ? 1 : -1));
      return { repos, totals };
    },
  };
}

function usd(raw: string | null | undefined): number {
  const n = Number(raw ?? 0);
  return Number.isFinite(n) ? n : 0;
}
