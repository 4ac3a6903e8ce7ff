import type { AgentEvent } from "./types";

export type ApiErrorEvent = Extract<AgentEvent, { type: "api_error" }>;

/** Longest message kept (the CLI quotes the API's answer, which the model server controls). */
const MESSAGE_MAX = 300;

/**
 * Gemini CLI prints a failed model call as `[API Error: <the API's message>]` and drops the HTTP status
 * (a 429 reads "Resource has been exhausted (e.g. check quota).", a 503 "The model is overloaded."), so the
 * status is recovered from the status names and phrases the Gemini API uses for each code.
 */
const STATUS_BY_TEXT: [RegExp, number][] = [
  [/RESOURCE_EXHAUSTED|resource has been exhausted|rate.?limit|quota/i, 429],
  [/overloaded|UNAVAILABLE|service unavailable/i, 503],
  [/DEADLINE_EXCEEDED|deadline exceeded/i, 504],
  [/\bINTERNAL\b|internal error/i, 500],
];

/**
 * The `api_error` event for a Gemini CLI error message (a `result` error or an `error` event), or undefined
 * when the message is not about the model API (a loop detected, max session turns, a tool failure).
 * Transient: 429 and 5xx, which pass by themselves; anything else an API error the retry would repeat.
 */
export function geminiApiError(message: string): ApiErrorEvent | undefined {
  const text = message.slice(0, 4000);
  const isApi = /\[API Error\b/i.test(text);
  let status: number | undefined;
  // A bare number only inside an `[API Error: …]`: elsewhere "500 files" is not a status.
  const code = /\b(?:status|code)\W{0,3}([45]\d\d)\b/i.exec(text) ?? (isApi ? /\b(429|5\d\d)\b/.exec(text) : null);
  if (code) status = Number(code[1]);
  else for (const [re, s] of STATUS_BY_TEXT) if (re.test(text)) status ??= s;
  const transient = status !== undefined && (status === 429 || status >= 500);
  if (!isApi && !transient) return undefined;
  const retryAfterMs = retryAfterOf(text);
  const oneLine = text.replace(/\s+/g, " ").trim();
  return {
    type: "api_error",
    ...(status !== undefined ? { status } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    transient,
    message: oneLine.length > MESSAGE_MAX ? `${oneLine.slice(0, MESSAGE_MAX - 1)}…` : oneLine,
  };
}

/** "Please retry in 2.5s", "retry after 3 seconds", "retryDelay: 4s" (RetryInfo) → ms; capped at one hour. */
function retryAfterOf(text: string): number | undefined {
  const m = /retry(?:[ -]?(?:in|after)|Delay["']?\s*:)\s*["']?(\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?)?\b/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const ms = m[2] === "ms" ? n : n * 1000;
  return Number.isFinite(ms) ? Math.min(Math.round(ms), 3_600_000) : undefined;
}
