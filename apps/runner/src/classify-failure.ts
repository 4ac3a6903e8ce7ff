import { ForgeApiError } from "@forgehand/forge";

/** How a failed step should be handled. */
export type FailureClass =
  | { kind: "transient"; retryAfterMs?: number; why: string }
  | { kind: "permanent"; why: string };

// Rate limits, overload and network trouble pass by themselves; anything else is the agent's or the gate's fault.
const TRANSIENT: [RegExp, string][] = [
  [/\b429\b|rate.?limit/i, "rate limited (429)"],
  [/\b529\b|overloaded/i, "API overloaded (529)"],
  [/\bECONNRESET\b|\bETIMEDOUT\b|\bECONNREFUSED\b|\bEAI_AGAIN\b|socket hang up/i, "network error"],
];

/**
 * Parses `Retry-After: 2` (seconds) or `retry after 2s` from agent output (the model API's answer as the agent
 * CLI prints it); ms or undefined. Forge answers are never parsed here: ForgeApiError carries `retryAfterMs`.
 */
export function parseRetryAfterText(text: string): number | undefined {
  const m = /retry[- ]after["']?\s*[:=]?\s*(\d+(?:\.\d+)?)\s*(ms|s|seconds?)?/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === "ms" ? Math.round(n) : Math.round(n * 1000);
}

/** Classifies agent output (stderr tail, last stdout lines, result text) after a failed run. */
export function classifyAgentFailure(output: string): FailureClass {
  for (const [re, why] of TRANSIENT) {
    if (re.test(output)) {
      const retryAfterMs = parseRetryAfterText(output);
      return retryAfterMs === undefined ? { kind: "transient", why } : { kind: "transient", why, retryAfterMs };
    }
  }
  return { kind: "permanent", why: "the agent exited with an error" };
}

/** Classifies the model API failure an agent's stream reported (`api_error`), e.g. codex's `turn.failed`. */
export function classifyApiError(error: {
  status?: number;
  retryAfterMs?: number;
  transient: boolean;
  message: string;
}): FailureClass {
  const status = error.status === undefined ? "" : ` (${error.status})`;
  if (!error.transient) return { kind: "permanent", why: `model API error${status}: ${error.message.slice(0, 200)}` };
  const why = error.status === 429 ? "rate limited (429)" : `model API unavailable${status}`;
  return error.retryAfterMs === undefined
    ? { kind: "transient", why }
    : { kind: "transient", why, retryAfterMs: error.retryAfterMs };
}

/**
 * The model API's HTTP status the agent's own stream reported (Claude `api_error_status`): 429, 408 and 5xx
 * (529 = overloaded) pass by themselves; undefined when there is no status or it is the agent's fault (400, 401…).
 */
export function classifyApiErrorStatus(status: number | undefined): FailureClass | undefined {
  if (status === undefined) return undefined;
  if (status === 429) return { kind: "transient", why: "rate limited (429)" };
  if (status === 529) return { kind: "transient", why: "API overloaded (529)" };
  if (status === 408 || (status >= 500 && status <= 599)) return { kind: "transient", why: `API error (${status})` };
  return undefined;
}

/** Classifies an error thrown by a forge call or git: the forge's own verdict, then network and git errors. */
export function classifyError(error: unknown): FailureClass {
  if (error instanceof ForgeApiError) return classifyForgeError(error);
  const e = error as { code?: unknown; message?: unknown };
  const message = String(e?.message ?? error);
  const code = typeof e?.code === "string" ? e.code : "";
  if (/^(ECONNRESET|ETIMEDOUT|ECONNREFUSED|EAI_AGAIN|EPIPE)$/.test(code)) return { kind: "transient", why: code };
  if (
    /Could not resolve host|Connection (reset|timed out|refused)|Failed to connect to|early EOF|RPC failed/i.test(
      message,
    )
  )
    return { kind: "transient", why: "network error" };
  // git over HTTP reports the server's answer this way; a forge's git endpoint has the same bad minutes as its API.
  const gitHttp = /The requested URL returned error: (5\d\d|429)\b/.exec(message);
  if (gitHttp) return { kind: "transient", why: `git server answered ${gitHttp[1]}` };
  // run-git.ts kills a git call past its network timeout (a hung fetch or push): worth another try.
  if (/`git [^`]*` failed \(timed out after \d+ ms\)/.test(message)) return { kind: "transient", why: "git timed out" };
  return { kind: "permanent", why: message };
}

/** A forge failure is transient when the forge client says so (no answer, 5xx, a rate limit). */
function classifyForgeError(error: ForgeApiError): FailureClass {
  if (!error.transient) return { kind: "permanent", why: error.message };
  const why = error.status === undefined ? "forge unreachable" : `forge answered ${error.status}`;
  return error.retryAfterMs === undefined
    ? { kind: "transient", why }
    : { kind: "transient", why, retryAfterMs: error.retryAfterMs };
}

/** Exponential backoff: `base * 2^(attempt-1)`, never below a Retry-After the agent saw, capped at 1 h. */
export function backoffMs(attempt: number, baseMs: number, retryAfterMs?: number): number {
  const exp = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 3_600_000);
  return Math.max(exp, retryAfterMs ?? 0);
}
