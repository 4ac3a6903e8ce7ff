import type { Config, Logger } from "@forgehand/core";
import { createStatusReporter, renderStatusComment } from "@forgehand/forge";
import type { StatusSinkFactory } from "./ports";

/** What the status comments of a runner's runs are rendered from. */
export interface StatusSinkOptions {
  config: Config;
  logger: Logger;
  /** Base URL of the webhook app, linked from status comments. */
  publicUrl?: string;
  /** The signed run-page link of a run (`signedRunUrl`), linked instead of the token-only log API when given. */
  runUrl?: (runId: string) => string;
  /** The process's redactor, applied to every agent- or forge-derived text of the comment. */
  redact: (text: string) => string;
}

/** The production status sink: one throttled status comment per run, rendered with the configured stages. */
export function createStatusSinkFactory(opts: StatusSinkOptions): StatusSinkFactory {
  const { config, logger, publicUrl, runUrl, redact } = opts;
  return (forge, record, ref) =>
    createStatusReporter({
      forge,
      ref,
      runId: record.id,
      intervalMs: config.status.interval,
      logger,
      render: (r) =>
        renderStatusComment(r, {
          stages: config.stages,
          maxActions: config.status.actions,
          redact,
          ...(publicUrl ? { publicUrl } : {}),
          ...(runUrl ? { runUrl } : {}),
        }),
    });
}
