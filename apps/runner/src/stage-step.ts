import type { FailureClass } from "./classify-failure";
import { classifyError } from "./classify-failure";
import type { StageResult, Step } from "./stage-context";

/** What the caller's retry needs from a transient failure; `retryAfterMs` only when the failure named one. */
export function retryHint(cls: Extract<FailureClass, { kind: "transient" }>): NonNullable<StageResult["transient"]> {
  return { why: cls.why, ...(cls.retryAfterMs ? { retryAfterMs: cls.retryAfterMs } : {}) };
}

/** Runs one step of a stage; a throw becomes a failed result, transient when the error's class says so. */
export async function step<T>(what: string, fn: () => Promise<T>): Promise<Step<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    const cls = classifyError(error);
    const reason = `${what} failed: ${(error as Error).message ?? String(error)}`;
    if (cls.kind === "permanent") return { ok: false, result: { state: "failed", reason } };
    return { ok: false, result: { state: "failed", reason, transient: retryHint(cls) } };
  }
}
