/** Which time limit expired. */
export type WatchdogReason = "timed_out" | "stalled";

export interface WatchdogOptions {
  /** Wall-clock limit (ms) from creation. */
  timeoutMs?: number;
  /** Limit (ms) on the time since the last `touch()`. */
  stallMs?: number;
  onExpire: (reason: WatchdogReason, detail: string) => void;
}

export interface Watchdog {
  /** Records output now. O(1): it moves no timer. */
  touch(): void;
  /**
   * The agent announced it waits `ms` by itself (an API retry, a rate limit): the stall clock starts only after
   * that wait. The wall-clock timeout still holds. O(1).
   */
  quietFor(ms: number): void;
  stop(): void;
}

/**
 * Wall-clock and stall limits with ONE timer per run. `touch()` only stores a timestamp; the timer fires at the
 * earliest possible deadline, re-reads the timestamp and re-arms if output arrived meanwhile. So a run costs at most
 * one timer callback per `stallMs`, however chatty it is (200 runs per process stay cheap).
 */
export function createWatchdog(options: WatchdogOptions): Watchdog {
  const { timeoutMs, stallMs, onExpire } = options;
  const started = performance.now();
  let last = started;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const arm = () => {
    const deadlines: number[] = [];
    if (timeoutMs !== undefined) deadlines.push(started + timeoutMs);
    if (stallMs !== undefined) deadlines.push(last + stallMs);
    if (deadlines.length === 0 || stopped) return;
    timer = setTimeout(check, Math.max(0, Math.min(...deadlines) - performance.now()));
  };
  function check() {
    timer = undefined;
    if (stopped) return;
    const now = performance.now();
    if (timeoutMs !== undefined && now >= started + timeoutMs) {
      stopped = true;
      onExpire("timed_out", `timed out: wall-clock limit of ${timeoutMs} ms reached`);
    } else if (stallMs !== undefined && now >= last + stallMs) {
      stopped = true;
      onExpire("stalled", `stalled: no output for ${Math.round(now - last)} ms (limit ${stallMs} ms)`);
    } else {
      arm();
    }
  }
  arm();
  return {
    touch() {
      last = Math.max(last, performance.now());
    },
    quietFor(ms) {
      last = Math.max(last, performance.now() + Math.max(0, ms));
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
