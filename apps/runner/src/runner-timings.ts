/** Runner timings (ms); production leaves them at their defaults, tests shorten them. */
export interface RunnerTimings {
  /** Issue lease lifetime; renewed every ttl/5 while the run lives. @defaultValue 30000 */
  leaseTtlMs: number;
  /** BullMQ job lock; a dead runner's job returns to the queue after it lapses. @defaultValue 30000 */
  lockDurationMs: number;
  /** How often BullMQ looks for jobs of dead runners. @defaultValue 30000 */
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
  leaseTtlMs: 30_000,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  stopPollMs: 1_000,
  lockedRetryMs: 2_000,
  progressIntervalMs: 1_000,
  worktreeSweepMs: 3_600_000,
};
