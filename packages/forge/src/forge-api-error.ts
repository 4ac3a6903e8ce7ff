import type { ForgeId } from "@forgehand/core";
import { parseRateLimit, type ResponseHeaders } from "./parse-rate-limit";

/** Where a forge call went and how it failed; see ForgeApiError for the defaults. */
export interface ForgeApiErrorInit {
  forge: ForgeId;
  method: string;
  url: string;
  /** The HTTP status; undefined when no answer arrived (network error, timeout, abort). */
  status?: number;
  /** How long the forge asked us to wait (Retry-After or a rate-limit reset). */
  retryAfterMs?: number;
  /** @defaultValue true for a 429 */
  rateLimited?: boolean;
  /** @defaultValue true for no answer, a 5xx or a rate limit */
  transient?: boolean;
  cause?: unknown;
}

/**
 * The one error a forge client throws, from every method: `status`, `retryAfterMs` and `transient` are all a
 * caller needs to decide (retry now, retry later, give up), so nothing outside packages/forge reads headers.
 */
export class ForgeApiError extends Error {
  readonly forge: ForgeId;
  readonly method: string;
  readonly url: string;
  /** The HTTP status; undefined when no answer arrived. */
  readonly status: number | undefined;
  /** Milliseconds the forge asked us to wait; undefined when it did not say. */
  readonly retryAfterMs: number | undefined;
  /** A 429, or a 403 that is a rate limit (GitHub's primary and secondary limits, a proxy's Retry-After). */
  readonly rateLimited: boolean;
  /** Worth trying again later: no answer, a 5xx or a rate limit. */
  readonly transient: boolean;

  constructor(message: string, init: ForgeApiErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ForgeApiError";
    this.forge = init.forge;
    this.method = init.method;
    this.url = init.url;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
    this.rateLimited = init.rateLimited ?? init.status === 429;
    this.transient = init.transient ?? (init.status === undefined || init.status >= 500 || this.rateLimited);
  }

  /** An error answer: `rateLimited` and `retryAfterMs` come from its headers and the forge's message. */
  static fromAnswer(
    message: string,
    init: Omit<ForgeApiErrorInit, "status" | "retryAfterMs" | "rateLimited"> & {
      status: number;
      headers?: ResponseHeaders;
      forgeMessage?: string;
    },
  ): ForgeApiError {
    const { headers, forgeMessage, ...rest } = init;
    return new ForgeApiError(message, {
      ...rest,
      ...parseRateLimit({ status: init.status, headers, message: forgeMessage }),
    });
  }
}

/** The status of a forge error, if it is one and an answer arrived. */
export function errorStatus(error: unknown): number | undefined {
  return error instanceof ForgeApiError ? error.status : undefined;
}

/** Network failures a retry may get past (fetch puts the code on `cause`). */
const NETWORK_CODES =
  /^(ECONNRESET|ETIMEDOUT|ECONNREFUSED|EAI_AGAIN|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|UND_ERR_\w+)$/;

/** Whether `error` (or its cause) is a failure to reach the forge at all rather than a bug. */
export function isNetworkFailure(error: unknown): boolean {
  for (
    let e = error, depth = 0;
    e && typeof e === "object" && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { name, code, message } = e as { name?: unknown; code?: unknown; message?: unknown };
    if (typeof code === "string" && NETWORK_CODES.test(code)) return true;
    if (name === "AbortError" || name === "TimeoutError") return true;
    if (name === "TypeError" && message === "fetch failed") return true;
  }
  return false;
}

/** Any failure without an answer as a ForgeApiError (`status` undefined); transient when it is a network failure. */
export function toForgeApiError(
  error: unknown,
  init: Pick<ForgeApiErrorInit, "forge" | "method" | "url" | "transient">,
): ForgeApiError {
  if (error instanceof ForgeApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const what = init.url ? `${init.method} ${init.url}` : init.method;
  return new ForgeApiError(`[forge] ${init.forge} ${what} failed: ${message}`, {
    ...init,
    transient: init.transient ?? isNetworkFailure(error),
    cause: error,
  });
}

/**
 * Wraps every method of a client so that whatever it throws is a ForgeApiError (errors from inside a method
 * that never reached the HTTP layer, such as minting an App token, become one with `status` undefined).
 */
export function throwingForgeApiErrors<T extends object>(forge: ForgeId, client: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(client)) {
    wrapped[name] =
      typeof value === "function"
        ? async (...args: unknown[]) => {
            try {
              return await value.apply(client, args);
            } catch (error) {
              throw toForgeApiError(error, { forge, method: name, url: "" });
            }
          }
        : value;
  }
  return wrapped as T;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
