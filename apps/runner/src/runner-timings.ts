/** Runner timings (ms); production leaves them at their defaults, tests shorten them. */
export interface RunnerTimings {
  /**
   * Issue lease lifetime; renewed every ttl/5 while the run lives. A dead runner on another host (or one whose
   * agents cannot be verified gone) frees its issues only when this lapses. At least
   * (runner.killGrace + 1 s) / 0.4: a runner that cannot renew stops its agent at 60% of it. @defaultValue 20000
   */
  leaseTtlMs: number;
  /** Heartbeat key lifetime (`<prefix>:runner:<id>`): once it lapses, peers on other hosts move its jobs back. @defaultValue 5000 */
  heartbeatTtlMs: number;
  /** How often the heartbeat is renewed and the other runners are checked for death. @defaultValue 1000 */
  heartbeatIntervalMs: number;
  /**
   * BullMQ job lock, renewed every half of it; the fallback that returns a job whose runner died without any
   * peer noticing (peers normally move it back within a heartbeat). @defaultValue 15000
   */
  lockDurationMs: number;
  /** How often BullMQ itself looks for jobs whose lock lapsed. @defaultValue 5000 */
  stalledIntervalMs: number;
  /** Persisted stop flags are polled this often for every live run. @defaultValue 1000 */
  stopPollMs: number;
  /** A job whose issue is busy waits about this long before trying again. @defaultValue 2000 */
  lockedRetryMs: number;
  /** Run-record progress is written at most this often. @defaultValue 1000 */
  progressIntervalMs: number;
  /** Old worktrees are swept at start and then this often (see config runner.worktreeRetention). @defaultValue 3600000 */
  worktreeSweepMs: number;
}

/** Production timings. */
export const DEFAULT_TIMINGS: RunnerTimings = {
  leaseTtlMs: 20_000,
  heartbeatTtlMs: 5_000,
  heartbeatIntervalMs: 1_000,
  lockDurationMs: 15_000,
  stalledIntervalMs: 5_000,
  stopPollMs: 1_000,
  lockedRetryMs: 2_000,
  progressIntervalMs: 1_000,
  worktreeSweepMs: 3_600_000,
};
