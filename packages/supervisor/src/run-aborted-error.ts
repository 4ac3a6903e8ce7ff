/**
 * The `reason` to abort a run's AbortSignal with: the supervisor's "stopping agent" log line and the outcome's
 * detail name it (`stopped: <message>`, with `kind` in the log). Pass the caller's own cause object as `cause`.
 */
export class RunAbortedError extends Error {
  constructor(
    /** What aborted the run, e.g. `stop`, `shutdown`, `lease`. */
    readonly kind: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RunAbortedError";
  }
}

/** Readable text of an abort reason: an Error's message, a string as is, anything else as JSON (never `[object Object]`). */
export function abortReasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (reason === undefined) return "aborted";
  if (typeof reason === "string") return reason;
  try {
    return JSON.stringify(reason) ?? String(reason);
  } catch {
    return String(reason);
  }
}
