import type { Logger } from "@forgehand/core";

/** Resolves with the signal name on the first SIGINT or SIGTERM; a second one exits at once. */
export function waitForShutdownSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    let seen = false;
    const handle = (signal: NodeJS.Signals) => {
      if (seen) {
        // An impatient second Ctrl-C skips the grace period; the 'exit' hook stops the embedded
        // Redis, and the next runner start on this data dir reaps any agent left over.
        logger.warn("second signal, exiting now", { signal });
        process.exit(130);
      }
      seen = true;
      logger.info("shutting down", { signal });
      resolveSignal(signal);
    };
    process.on("SIGINT", handle);
    process.on("SIGTERM", handle);
  });
}

/** Runs cleanup steps in reverse order of registration, each isolated so one failure skips nothing. */
export class CleanupStack {
  private readonly steps: { name: string; run: () => Promise<void> | void; timeoutMs: number }[] = [];
  constructor(private readonly logger: Logger) {}

  /** Registers a step; one that takes longer than `timeoutMs` is abandoned so shutdown always ends. */
  push(name: string, run: () => Promise<void> | void, timeoutMs = 15_000): void {
    this.steps.push({ name, run, timeoutMs });
  }

  async runAll(): Promise<void> {
    while (this.steps.length) {
      const step = this.steps.pop()!;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          step.run(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`gave up after ${step.timeoutMs} ms`)), step.timeoutMs);
          }),
        ]);
        this.logger.info("stopped", { part: step.name });
      } catch (error) {
        this.logger.error("shutdown step failed", { part: step.name, error });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/**
 * Runs a long-lived command: `start` brings its parts up, registering each on the cleanup stack;
 * the process then serves until SIGINT/SIGTERM and stops the parts in reverse order. A failed
 * start stops whatever had come up before rethrowing. Resolves with the exit code.
 */
export async function serveUntilSignal(
  logger: Logger,
  start: (cleanup: CleanupStack) => Promise<void>,
): Promise<number> {
  const cleanup = new CleanupStack(logger);
  const shutdown = waitForShutdownSignal(logger);
  try {
    await start(cleanup);
  } catch (error) {
    await cleanup.runAll();
    throw error;
  }
  await shutdown;
  await cleanup.runAll();
  return 0;
}
