import { geminiApiError } from "./gemini-api-error";
import { short } from "./stream-json-fields";
import type { AgentEvent } from "./types";

/**
 * Gemini CLI's stream-json has no event for its own retry of a 429/5xx (gemini-cli 0.61.0: the retried call leaves
 * no trace on stdout); it prints the retry on stderr only, when the wait starts:
 * `Attempt 1 failed: Resource has been exhausted (e.g. check quota).` then
 * `Suggested retry after 3s.. Retrying after 5094ms...`. This reader turns that pair into an `api_retry` (the
 * delay the CLI will actually wait, its attempt number, the status recovered from the message). Returns a reader
 * of stderr lines; each call yields the events of one line.
 */
export function createGeminiStderrRetryReader(): (line: string) => AgentEvent[] {
  let failed: { attempt: number; message: string } | undefined;
  return function readGeminiStderrLine(line) {
    if (line.length > 2000) return [];
    const attempt = /^Attempt (\d{1,4}) failed: (.*)$/.exec(line);
    if (attempt) {
      failed = { attempt: Number(attempt[1]), message: attempt[2] as string };
      return [];
    }
    const retrying = /Retrying after (\d{1,9})ms\b/.exec(line);
    if (!retrying) return [];
    const delayMs = Math.min(Number(retrying[1]), 3_600_000);
    const status = failed ? geminiApiError(`[API Error: ${failed.message}]`)?.status : undefined;
    const event: AgentEvent = {
      type: "api_retry",
      ...(failed ? { attempt: failed.attempt } : {}),
      delayMs,
      ...(status !== undefined ? { status } : {}),
      ...(failed ? { error: short(failed.message) } : {}),
    };
    failed = undefined;
    return [event];
  };
}
