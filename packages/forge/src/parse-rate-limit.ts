/** Response headers as fetch (`Headers`) or Octokit (a record with lower-cased names) hands them out. */
export type ResponseHeaders = { get(name: string): string | null } | Record<string, string | number | undefined>;

/** What a forge's answer says about rate limiting. */
export interface RateLimit {
  /** The forge refused because of a rate limit: any 429, or a 403 that says so (GitHub primary/secondary limits). */
  rateLimited: boolean;
  /** How long the forge asked us to wait; undefined when no header says (or says garbage). Never negative. */
  retryAfterMs?: number;
}

function header(headers: ResponseHeaders | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const value = typeof headers.get === "function" ? headers.get(name) : (headers as Record<string, unknown>)[name];
  return value === null || value === undefined ? undefined : String(value).trim();
}

/**
 * Milliseconds to wait from `Retry-After` (delay-seconds or an HTTP-date, RFC 9110 §10.2.3), else from
 * `x-ratelimit-reset` (epoch seconds) when `x-ratelimit-remaining` is 0, plus 1 s as plugin-throttling adds.
 * A date in the past means 0; a header that is neither a number nor a date is ignored.
 */
export function parseRetryAfter(headers: ResponseHeaders | undefined, now = Date.now()): number | undefined {
  const ra = header(headers, "retry-after");
  if (ra) {
    if (/^\d+(\.\d+)?$/.test(ra)) return Number(ra) * 1000;
    // Date.parse reads "5" or "-1" as years, so only text with a month or weekday name counts as a date.
    const at = /[a-z]/i.test(ra) ? Date.parse(ra) : Number.NaN;
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  if (header(headers, "x-ratelimit-remaining") === "0") {
    const reset = header(headers, "x-ratelimit-reset");
    if (reset && /^\d+$/.test(reset) && Number(reset) > 0) return Math.max(0, Number(reset) * 1000 - now) + 1000;
  }
  return undefined;
}

/**
 * Reads an error answer's rate-limit state. GitHub answers a primary limit with 403/429 and
 * `x-ratelimit-remaining: 0`, a secondary one with 403/429, "secondary rate limit" and usually `Retry-After`
 * (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api); Gitea's API router has no limiter
 * of its own, but a reverse proxy in front of it may answer 429 or 403 with `Retry-After`.
 */
export function parseRateLimit(
  answer: { status: number; headers?: ResponseHeaders; message?: string },
  now = Date.now(),
): RateLimit {
  const retryAfterMs = parseRetryAfter(answer.headers, now);
  const rateLimited =
    answer.status === 429 ||
    (answer.status === 403 &&
      (retryAfterMs !== undefined ||
        header(answer.headers, "x-ratelimit-remaining") === "0" ||
        /\brate limit/i.test(answer.message ?? "")));
  return retryAfterMs === undefined ? { rateLimited } : { rateLimited, retryAfterMs };
}
