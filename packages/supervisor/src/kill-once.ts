import type { Logger } from "@forgehand/core";
import { type KillTreeRoot, killTree } from "./kill-tree";
import type { KillReport } from "./types";

/** The verified kill of one run, started at most once. */
export interface KillOnce {
  /** Starts the kill, or joins the one under way. Never rejects: a kill that throws names the root a survivor. */
  kill(): Promise<KillReport>;
  /** Whether `kill()` was called. */
  readonly started: boolean;
  /** Resolves once a kill has completed (a root that survives SIGKILL never exits: its kill ends the run). */
  readonly done: Promise<KillReport>;
}

/**
 * Every caller (a limit, an abort, the sweep after exit) shares the first kill's report. `before` runs first (a
 * sandbox's own stop: graceful signal to its init, then cgroup.kill); what it names as survivors is reported too.
 */
export function createKillOnce(
  root: KillTreeRoot,
  options: { graceMs: number; logger: Logger; before?: () => Promise<KillReport["survivors"]> },
): KillOnce {
  let killing: Promise<KillReport> | undefined;
  let markDone: (report: KillReport) => void = () => {};
  const done = new Promise<KillReport>((resolve) => {
    markDone = resolve;
  });
  return {
    kill() {
      if (!killing) {
        const before = options.before;
        const run = async (): Promise<KillReport> => {
          if (!before) return killTree(root, options);
          const started = performance.now();
          const early = await before();
          const report = await killTree(root, options);
          const survivors = [
            ...early.filter((e) => !report.survivors.some((s) => s.pid === e.pid)),
            ...report.survivors,
          ];
          return { ...report, survivors, durationMs: Math.round(performance.now() - started) };
        };
        killing = run().catch((error: unknown): KillReport => {
          options.logger.error("process tree kill failed", { error });
          const pid = root.pid ?? 0;
          const survivors = [{ pid, command: `kill failed: ${String(error)}` }];
          return { killed: [], survivors, escalated: false, durationMs: 0 };
        });
        void killing.then(markDone);
      }
      return killing;
    },
    get started() {
      return killing !== undefined;
    },
    done,
  };
}
