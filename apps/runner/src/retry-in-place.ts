import { setTimeout as sleep } from "node:timers/promises";
import { backoffMs, classifyError, type FailureClass } from "./classify-failure";

/** One retry about to be waited for; `attempt` counts retries from 1. */
export interface RetryNotice {
  attempt: number;
  retries: number;
  delayMs: number;
  why: string;
  error: unknown;
}

/** How `retryInPlace` retries. */
export interface RetryInPlaceOptions {
  /** Retries after the first try (0: try once). */
  retries: number;
  /** First wait in ms; doubles per retry, never below a Retry-After the error named (see `backoffMs`). */
  backoffMs: number;
  /** Ends a wait at once; the result is then `aborted`. */
  signal: AbortSignal;
  /** Called before each wait, e.g. to log the retry. */
  onRetry?(notice: RetryNotice): void;
  /** @defaultValue classifyError */
  classify?(error: unknown): FailureClass;
}

/** The value, or the last error with its class; `aborted` when the signal ended a wait. */
export type RetryInPlaceResult<T> =
  | { ok: true; value: T; retries: number }
  | { ok: false; error: unknown; failure: FailureClass; retries: number; aborted: boolean };

/**
 * Calls `fn` until it succeeds, it throws a permanent error, the retries run out or the signal fires.
 * Unlike the queue's retry this keeps the process (and whatever `fn` already did) in place, so `fn`
 * must be safe to call again after a partial success.
 */
export async function retryInPlace<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryInPlaceOptions,
): Promise<RetryInPlaceResult<T>> {
  const classify = options.classify ?? classifyError;
  for (let attempt = 0; ; attempt++) {
    try {
      return { ok: true, value: await fn(attempt), retries: attempt };
    } catch (error) {
      const failure = classify(error);
      const done = { ok: false as const, error, failure, retries: attempt };
      if (failure.kind === "permanent" || attempt >= options.retries) return { ...done, aborted: false };
      if (options.signal.aborted) return { ...done, aborted: true };
      const delayMs = backoffMs(attempt + 1, options.backoffMs, failure.retryAfterMs);
      options.onRetry?.({ attempt: attempt + 1, retries: options.retries, delayMs, why: failure.why, error });
      try {
        await sleep(delayMs, undefined, { signal: options.signal });
      } catch {
        // Only the signal rejects this sleep.
        return { ...done, aborted: true };
      }
    }
  }
}
