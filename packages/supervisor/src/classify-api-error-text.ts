/** What an agent CLI's own error event says about the model API: the `api_error` event's fields. */
export interface ApiErrorFacts {
  status?: number;
  retryAfterMs?: number;
  /** 429, 5xx, overloaded, network: worth retrying later. */
  transient: boolean;
}

/**
 * Reads the HTTP status, transience and Retry-After out of the message a CLI prints for a failed model call
 * (codex: `exceeded retry limit, last status: 429 Too Many Requests`, `unexpected status 503 …`, or the raw
 * JSON error body). Shared by every parser whose CLI reports API failures only as text.
 */
export function classifyApiErrorText(message: string): ApiErrorFacts {
  const text = message.slice(0, 4000);
  const statusMatch = /\b(?:status|code|HTTP)[: ]+(\d{3})\b/i.exec(text) ?? /\b(429|5\d\d)\b/.exec(text);
  const status = statusMatch ? Number(statusMatch[1]) : /rate_limit_exceeded|rate.?limit/i.test(text) ? 429 : undefined;
  const transient =
    status === 429 ||
    (status !== undefined && status >= 500 && status <= 599) ||
    /overloaded|rate.?limit|server_error|ECONNRESET|ETIMEDOUT|ECONNREFUSED|stream disconnected/i.test(text);
  // `Retry-After: 7`, `retry after 7s`, or OpenAI's `Please try again in 1.5s`.
  const retry =
    /retry[- ]after["']?\s*[:=]?\s*(\d+(?:\.\d+)?)\s*(ms|s|seconds?)?/i.exec(text) ??
    /try again in (\d+(?:\.\d+)?)\s*(ms|s|seconds?)?/i.exec(text);
  const retryAfterMs = retry ? Math.round(Number(retry[1]) * (retry[2] === "ms" ? 1 : 1000)) : undefined;
  return {
    ...(status !== undefined ? { status } : {}),
    ...(retryAfterMs !== undefined && Number.isFinite(retryAfterMs) ? { retryAfterMs } : {}),
    transient,
  };
}
