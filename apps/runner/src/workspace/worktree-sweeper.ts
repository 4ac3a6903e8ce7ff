import { issueKey, type Logger } from "@forgehand/core";
import type { Redis } from "ioredis";
import { holdLease } from "../hold-lease";
import type { WorktreeInfo } from "./list-worktrees";
import type { SweepGuard, SweepResult, Workspaces } from "./types";

export interface IssueLeaseGuardOptions {
  redis: Redis;
  prefix: string;
  /** Lease token; unique per runner so a sweep never mistakes a run's lease for its own. */
  token: string;
  ttlMs: number;
  logger: Logger;
}

/**
 * A sweep guard that holds the issue's lease (the one every run takes, keyed by `issueKey`) around the
 * removal: no run can start on the issue meanwhile, and an issue with a live run is skipped.
 */
export function issueLeaseGuard(opts: IssueLeaseGuardOptions): SweepGuard {
  return async (info: WorktreeInfo, remove: () => Promise<void>) => {
    const issue = issueKey({ repo: { forge: info.forge, fullName: `${info.owner}/${info.name}` }, number: info.issue });
    const lease = await holdLease({
      redis: opts.redis,
      prefix: opts.prefix,
      issue,
      token: opts.token,
      ttlMs: opts.ttlMs,
      logger: opts.logger,
      // Nothing to stop: a run that starts anyway waits in prepare() for the mirror lock the removal holds.
      onLost: () => {},
    });
    if (!lease) return false;
    try {
      await remove();
      return true;
    } finally {
      await lease.release();
    }
  };
}

export interface WorktreeSweeperOptions extends IssueLeaseGuardOptions {
  workspaces: Pick<Workspaces, "sweep">;
  /** Worktrees unused this long are removed; 0 turns the sweeper off. */
  retentionMs: number;
  /** Time between sweeps after the first one, which starts at once. */
  intervalMs: number;
}

export interface WorktreeSweeper {
  /** Resolves when the sweep in progress (if any) ended. */
  idle(): Promise<void>;
  /** Stops the timer, asks a running sweep to stop after its current worktree, and waits for it. */
  close(): Promise<void>;
}

/** Sweeps old worktrees in the background now and every `intervalMs` (the timer never keeps the process alive). */
export function startWorktreeSweeper(opts: WorktreeSweeperOptions): WorktreeSweeper {
  const { logger } = opts;
  if (!(opts.retentionMs > 0)) {
    logger.info("worktree cleanup off (runner.worktreeRetention is 0)");
    return { idle: async () => {}, close: async () => {} };
  }
  const guard = issueLeaseGuard(opts);
  const abort = new AbortController();
  let running: Promise<void> | undefined;

  function sweepOnce(): void {
    if (running || abort.signal.aborted) return;
    running = opts.workspaces
      .sweep(opts.retentionMs, guard, { signal: abort.signal })
      .then((result: SweepResult) => {
        if (result.removed.length || result.skipped.length || result.agentHomesRemoved.length)
          logger.info("worktree sweep done", {
            removed: result.removed.length,
            agentHomesRemoved: result.agentHomesRemoved.length,
            skipped: result.skipped.map((s) => `${s.worktree} (${s.reason})`),
          });
      })
      .catch((error: unknown) => logger.warn("worktree sweep failed", { error }))
      .finally(() => {
        running = undefined;
      });
  }

  sweepOnce();
  const timer = setInterval(sweepOnce, opts.intervalMs);
  timer.unref();
  return {
    idle: async () => {
      await running;
    },
    close: async () => {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
