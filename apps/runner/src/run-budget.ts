import type { Logger } from "@forgehand/core";
import type { CapReached, SpendLedger, SpendScope } from "@forgehand/queue";

/** Longest wait for the last spend write when a run ends. */
const FINISH_BOUND_MS = 5_000;

/** One attempt's share of the `budgets:` caps: refuses to start over a cap, stops the run that crosses one. */
export interface RunBudget {
  /** Why the run must not start (a cap is already reached), or undefined. */
  refusal(): Promise<string | undefined>;
  /** Aborted with a `budget limit: …` reason when this run's spend crosses a cap (the supervisor's `budgetSignal`). */
  readonly signal: AbortSignal;
  /** The attempt's cumulative live cost (the supervisor's progress): the increase is added to the shared totals. */
  track(costUsd: number): void;
  /** The attempt's final cost (a CLI's own USD may differ from the live estimate): the totals are corrected. */
  finish(costUsd: number): Promise<void>;
}

/**
 * Live spend of one run into the shared ledger. At most one Redis call is in flight per run: increments that
 * arrive meanwhile are summed into the next one, so a chatty agent costs one round trip at a time.
 */
export function createRunBudget(
  ledger: SpendLedger,
  scope: SpendScope,
  logger: Logger,
  now: () => number = Date.now,
): RunBudget {
  const controller = new AbortController();
  let recorded = 0;
  let wanted = 0;
  let inFlight: Promise<void> | undefined;

  const flush = (stopOnCap: boolean): Promise<void> => {
    if (inFlight) return inFlight;
    const delta = wanted - recorded;
    if (delta === 0) return Promise.resolve();
    inFlight = ledger
      .add(scope, delta, now())
      .then(({ reached }) => {
        recorded += delta;
        if (reached && stopOnCap && !controller.signal.aborted) controller.abort(describeCap(reached, scope, now()));
      })
      .catch((error: unknown) => logger.warn("spend not recorded; retried with the next cost", { error }))
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight.then(() => (wanted !== recorded && !controller.signal.aborted ? flush(stopOnCap) : undefined));
  };

  return {
    signal: controller.signal,
    async refusal() {
      const reached = await ledger.check(scope, now());
      return reached ? `not started: ${describeCap(reached, scope, now())}` : undefined;
    },
    track(costUsd) {
      if (!Number.isFinite(costUsd) || costUsd <= wanted) return;
      wanted = costUsd;
      void flush(true);
    },
    async finish(costUsd) {
      if (Number.isFinite(costUsd) && costUsd >= 0) wanted = costUsd;
      // Bounded: a Redis outage must not hold the run's end (the lease, the status comment) hostage.
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, FINISH_BOUND_MS);
      });
      await Promise.race([(inFlight ?? Promise.resolve()).then(() => flush(false)), bound]);
      clearTimeout(timer);
    },
  };
}

/** Which cap, what was spent, and when it resets, in words for the status comment. */
export function describeCap(reached: CapReached, scope: SpendScope, now: number): string {
  const spent = `$${reached.spentUsd.toFixed(2)}`;
  const cap = `budgets.${reached.cap} $${reached.limitUsd}`;
  const resets = reached.resetsAt === undefined ? "" : `; resets at 00:00 UTC (in ${formatIn(reached.resetsAt - now)})`;
  switch (reached.cap) {
    case "perIssueUsd":
      return `budget limit: runs on this issue spent ${spent} of ${cap} (the issue cap does not reset)`;
    case "perRepoDailyUsd":
      return `budget limit: ${scope.repo} spent ${spent} today (UTC) of ${cap}${resets}`;
    default:
      return `budget limit: all repositories spent ${spent} today (UTC) of ${cap}${resets}`;
  }
}

function formatIn(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
}
