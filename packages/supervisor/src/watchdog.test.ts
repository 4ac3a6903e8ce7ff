import { describe, expect, it } from "vitest";
import { createWatchdog, type WatchdogReason } from "./watchdog";

function expiry() {
  let resolve!: (v: { reason: WatchdogReason; at: number }) => void;
  const promise = new Promise<{ reason: WatchdogReason; at: number }>((r) => {
    resolve = r;
  });
  return { promise, onExpire: (reason: WatchdogReason) => resolve({ reason, at: performance.now() }) };
}

describe("createWatchdog", () => {
  it("fires stalled after stallMs without touch, and touching postpones it", async () => {
    const e = expiry();
    const started = performance.now();
    const dog = createWatchdog({ stallMs: 150, onExpire: e.onExpire });
    const touching = setInterval(() => dog.touch(), 30);
    setTimeout(() => clearInterval(touching), 300);
    const { reason, at } = await e.promise;
    expect(reason).toBe("stalled");
    expect(at - started).toBeGreaterThanOrEqual(300 + 100);
  });

  it("quietFor: an announced API-retry wait is not a stall; the stall clock starts after it, a touch cannot shorten it", async () => {
    const e = expiry();
    const started = performance.now();
    const dog = createWatchdog({ stallMs: 100, onExpire: e.onExpire });
    dog.quietFor(300);
    dog.touch();
    const { reason, at } = await e.promise;
    expect(reason).toBe("stalled");
    expect(at - started).toBeGreaterThanOrEqual(300 + 100 - 5);
  });

  it("quietFor never outlasts the wall-clock timeout", async () => {
    const e = expiry();
    const started = performance.now();
    const dog = createWatchdog({ timeoutMs: 150, stallMs: 50, onExpire: e.onExpire });
    dog.quietFor(10_000);
    const { reason, at } = await e.promise;
    expect(reason).toBe("timed_out");
    expect(at - started).toBeLessThan(1000);
  });

  it("fires timed_out at the wall clock limit however chatty the run is", async () => {
    const e = expiry();
    const started = performance.now();
    const dog = createWatchdog({ timeoutMs: 200, stallMs: 100, onExpire: e.onExpire });
    const touching = setInterval(() => dog.touch(), 10);
    const { reason, at } = await e.promise;
    clearInterval(touching);
    expect(reason).toBe("timed_out");
    expect(at - started).toBeGreaterThanOrEqual(195);
  });

  it("never fires after stop()", async () => {
    let fired = false;
    const dog = createWatchdog({
      timeoutMs: 20,
      onExpire: () => {
        fired = true;
      },
    });
    dog.stop();
    await new Promise((r) => setTimeout(r, 80));
    expect(fired).toBe(false);
  });
});
