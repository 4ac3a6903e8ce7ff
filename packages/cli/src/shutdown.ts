import type { Logger } from "@forgehand/core";

/** Resolves with the signal name on the first SIGINT or SIGTERM; a second one exits at once. */
export function waitForShutdownSignal(logger: Logger, onForce: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    let seen = false;
    const handle = (signal: NodeJS.Signals) => {
      if (seen) {
        // An impatient second Ctrl-C: skip the grace period but still stop children we own.
        logger.warn("second signal, exiting now", { signal });
        onForce();
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
  private readonly steps: { name: string; run: () => Promise<void> | void }[] = [];
  constructor(private readonly logger: Logger) {}

  push(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  async runAll(): Promise<void> {
    while (this.steps.length) {
      const step = this.steps.pop()!;
      try {
        await step.run();
        this.logger.info("stopped", { part: step.name });
      } catch (error) {
        this.logger.error("shutdown step failed", { part: step.name, error });
      }
    }
  }
}
