/**
 * How urgent a forge write is. `urgent`: a final status edit, a PR, a review — waits its turn however long.
 * `normal`: everything else. `low`: an intermediate status edit — when writes are queued up it is declined
 * (WriteDeferredError) and the status reporter folds it into its next, newer edit.
 */
export type WritePriority = "urgent" | "normal" | "low";

/** What one write is, for the budget: a content-creating request (comment, issue, PR, review) counts twice over. */
export interface WriteRequest {
  creates: boolean;
  priority: WritePriority;
}

/**
 * One write budget per installation / token, shared by every process that writes with it (a Redis token bucket,
 * packages/queue forge-write-budget.ts). GitHub's secondary limits are per installation, not per process:
 * mutating requests serially, one second apart, and at most 80 content-creating requests a minute.
 */
export interface WriteBudget {
  /** Resolves when this write may go; rejects with WriteDeferredError when a `low` write is declined. */
  take(scope: string, request: WriteRequest): Promise<void>;
  /** The forge said to wait (Retry-After / a secondary limit): nobody writes with `scope` for `ms`. */
  pause(scope: string, ms: number): Promise<void>;
}

/** A low-priority write the budget declined because writes are queued; try again later with newer content. */
export class WriteDeferredError extends Error {
  override name = "WriteDeferredError";
  constructor(
    readonly scope: string,
    /** How long the queue of writes ahead of it was. */
    readonly waitMs: number,
  ) {
    super(`[forge] write deferred: ${waitMs} ms of writes are queued for ${scope}`);
  }
}

/**
 * Whether `error` is, or was caused by, a declined low-priority write: the clients wrap whatever a method throws
 * in a ForgeApiError, so the budget's WriteDeferredError usually arrives as the `cause`.
 */
export function isWriteDeferred(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 4; e = (e as { cause?: unknown }).cause, depth++)
    if (e instanceof WriteDeferredError) return true;
  return false;
}

/** GitHub REST paths whose POST creates content (comments, issues, pull requests, reviews). */
const CREATES = [
  /^\/repos\/[^/]+\/[^/]+\/issues$/,
  /^\/repos\/[^/]+\/[^/]+\/issues\/[^/]+\/comments$/,
  /^\/repos\/[^/]+\/[^/]+\/pulls$/,
  /^\/repos\/[^/]+\/[^/]+\/pulls\/[^/]+\/(reviews|comments)$/,
];

/** Whether a request is a write, and whether it creates content, from its method and path (or octokit's template). */
export function classifyWrite(method: string, path: string): { write: boolean; creates: boolean } {
  const m = method.toUpperCase();
  if (m === "GET" || m === "HEAD") return { write: false, creates: false };
  const pathname = path.split("?")[0] ?? path;
  return { write: true, creates: m === "POST" && CREATES.some((re) => re.test(pathname)) };
}
