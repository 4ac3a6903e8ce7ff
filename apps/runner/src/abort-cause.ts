import type { StopRequest } from "@forgehand/queue";
import { RunAbortedError } from "@forgehand/supervisor";

/** Why a live run's AbortController fired. */
export type AbortCause = { kind: "stop"; request: StopRequest } | { kind: "shutdown" } | { kind: "lease"; why: string };

/**
 * Aborts a live run (once; a later cause is ignored) with a `RunAbortedError` that carries `cause`: the
 * supervisor's "stopping agent" log line and the outcome's detail then say why, e.g. `stopped: runner shutting down`.
 */
export function abortRun(controller: AbortController, cause: AbortCause): void {
  if (!controller.signal.aborted) controller.abort(new RunAbortedError(cause.kind, describeAbort(cause), { cause }));
}

/** The cause a run was aborted with by `abortRun`; undefined while it runs. */
export function abortCauseOf(signal: AbortSignal): AbortCause | undefined {
  const reason: unknown = signal.reason;
  return signal.aborted && reason instanceof RunAbortedError ? (reason.cause as AbortCause) : undefined;
}

function describeAbort(cause: AbortCause): string {
  switch (cause.kind) {
    case "stop":
      return `stop requested by ${cause.request.by} (${cause.request.reason})`;
    case "shutdown":
      return "runner shutting down";
    case "lease":
      return `issue lease lost (${cause.why})`;
  }
}
