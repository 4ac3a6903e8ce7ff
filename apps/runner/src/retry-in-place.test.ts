import { describe, expect, it } from "vitest";
import { type RetryNotice, retryInPlace } from "./retry-in-place";
import { forgeError } from "./testing/memory-forge";

const badGateway = () => forgeError(502, "bad gateway");
const forbidden = () => forgeError(403, "forbidden");

/** A function that throws the given errors in turn, then returns "done"; counts its calls. */
function failing(...errors: Error[]) {
  const calls: number[] = [];
  const fn = async (attempt: number) => {
    calls.push(attempt);
    const error = errors.shift();
    if (error) throw error;
    return "done";
  };
  return { fn, calls };
}

describe("retryInPlace", () => {
  it("retries transient failures with doubling waits until the call works", async () => {
    const { fn, calls } = failing(badGateway(), badGateway());
    const notices: RetryNotice[] = [];
    const started = Date.now();
    const result = await retryInPlace(fn, {
      retries: 3,
      backoffMs: 40,
      signal: new AbortController().signal,
      onRetry: (n) => notices.push(n),
    });
    expect(result).toEqual({ ok: true, value: "done", retries: 2 });
    expect(calls).toEqual([0, 1, 2]);
    expect(notices.map((n) => [n.attempt, n.retries, n.delayMs, n.why])).toEqual([
      [1, 3, 40, "forge answered 502"],
      [2, 3, 80, "forge answered 502"],
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
  });

  it("waits at least the Retry-After the error named", async () => {
    const limited = forgeError(429, "slow down", { rateLimited: true, retryAfterMs: 150 });
    const { fn } = failing(limited);
    const notices: RetryNotice[] = [];
    const started = Date.now();
    const result = await retryInPlace(fn, {
      retries: 1,
      backoffMs: 10,
      signal: new AbortController().signal,
      onRetry: (n) => notices.push(n),
    });
    expect(result.ok).toBe(true);
    expect(notices.map((n) => n.delayMs)).toEqual([150]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
  });

  it("gives up at once on a permanent failure", async () => {
    const error = forbidden();
    const { fn, calls } = failing(error);
    const notices: RetryNotice[] = [];
    const result = await retryInPlace(fn, {
      retries: 3,
      backoffMs: 10,
      signal: new AbortController().signal,
      onRetry: (n) => notices.push(n),
    });
    expect(result).toEqual({
      ok: false,
      error,
      failure: { kind: "permanent", why: "forbidden" },
      retries: 0,
      aborted: false,
    });
    expect(calls).toEqual([0]);
    expect(notices).toEqual([]);
  });

  it("returns the last transient error when the retries run out", async () => {
    const last = badGateway();
    const { fn, calls } = failing(badGateway(), badGateway(), last);
    const result = await retryInPlace(fn, { retries: 2, backoffMs: 5, signal: new AbortController().signal });
    expect(result).toMatchObject({
      ok: false,
      error: last,
      failure: { kind: "transient" },
      retries: 2,
      aborted: false,
    });
    expect(calls).toEqual([0, 1, 2]);
  });

  it("ends a wait at once when the signal fires", async () => {
    const { fn, calls } = failing(badGateway());
    const controller = new AbortController();
    const started = Date.now();
    const result = await retryInPlace(fn, {
      retries: 3,
      backoffMs: 60_000,
      signal: controller.signal,
      onRetry: () => setTimeout(() => controller.abort(), 30),
    });
    expect(result).toMatchObject({ ok: false, aborted: true, retries: 0, failure: { kind: "transient" } });
    expect(calls).toEqual([0]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("does not wait when the signal already fired", async () => {
    const controller = new AbortController();
    controller.abort();
    const notices: RetryNotice[] = [];
    const result = await retryInPlace(failing(badGateway()).fn, {
      retries: 3,
      backoffMs: 60_000,
      signal: controller.signal,
      onRetry: (n) => notices.push(n),
    });
    expect(result).toMatchObject({ ok: false, aborted: true });
    expect(notices).toEqual([]);
  });
});
