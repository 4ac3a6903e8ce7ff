import type { ServerResponse } from "node:http";
import type { GeminiTurn, GeminiUsage } from "./types";

type AnswerTurn = Extract<GeminiTurn, { text: string } | { functionCalls: unknown }>;
type ErrorTurn = Extract<GeminiTurn, { status: number }>;

const DEFAULT_USAGE: GeminiUsage = { promptTokenCount: 1000, candidatesTokenCount: 50 };

/** Google's status name for an HTTP status (what `error.status` says in a Gemini API error body). */
const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};
const DEFAULT_MESSAGES: Record<number, string> = {
  429: "Resource has been exhausted (e.g. check quota).",
  503: "The model is overloaded. Please try again later.",
};

/** The `GenerateContentResponse` chunks of one turn; usage rides on the last one, as the real API sends it. */
export function responseChunks(turn: AnswerTurn, model: string): Record<string, unknown>[] {
  const usage = turn.usage ?? DEFAULT_USAGE;
  const usageMetadata = {
    promptTokenCount: usage.promptTokenCount,
    candidatesTokenCount: usage.candidatesTokenCount,
    totalTokenCount: usage.promptTokenCount + usage.candidatesTokenCount,
    ...(usage.cachedContentTokenCount ? { cachedContentTokenCount: usage.cachedContentTokenCount } : {}),
  };
  const texts = "functionCalls" in turn ? (turn.text ? [turn.text] : []) : split(turn.text, turn.chunks ?? 1);
  const parts: Record<string, unknown>[][] = texts.map((text) => [{ text }]);
  if ("functionCalls" in turn) parts.push(turn.functionCalls.map((call) => ({ functionCall: call })));
  if (parts.length === 0) parts.push([{ text: "" }]);
  return parts.map((p, i) => {
    const last = i === parts.length - 1;
    return {
      candidates: [{ content: { role: "model", parts: p }, index: 0, ...(last ? { finishReason: "STOP" } : {}) }],
      ...(last ? { usageMetadata } : {}),
      modelVersion: model,
    };
  });
}

/** `streamGenerateContent?alt=sse`: one `data:` event per chunk. */
export function writeGeminiSse(res: ServerResponse, turn: AnswerTurn, model: string): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const chunk of responseChunks(turn, model)) res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
  res.end();
}

/** `generateContent`: the chunks merged into one response. */
export function writeGeminiJson(res: ServerResponse, turn: AnswerTurn, model: string): void {
  const chunks = responseChunks(turn, model);
  const parts = chunks.flatMap((c) => (c.candidates as Array<{ content: { parts: unknown[] } }>)[0]!.content.parts);
  const last = chunks[chunks.length - 1]!;
  const body = {
    ...last,
    candidates: [{ content: { role: "model", parts }, index: 0, finishReason: "STOP" }],
  };
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** A Gemini API error body; a 429 with `retryAfter` also carries `Retry-After` and a google.rpc.RetryInfo detail. */
export function writeGeminiError(res: ServerResponse, turn: ErrorTurn): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const details: unknown[] = [];
  if (turn.retryAfter !== undefined) {
    headers["retry-after"] = String(turn.retryAfter);
    details.push({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${turn.retryAfter}s` });
  }
  const message = turn.message ?? DEFAULT_MESSAGES[turn.status] ?? `scripted error ${turn.status}`;
  res.writeHead(turn.status, headers);
  res.end(
    JSON.stringify({
      error: { code: turn.status, message, status: STATUS_NAMES[turn.status] ?? "UNKNOWN", details },
    }),
  );
}

function split(text: string, n: number): string[] {
  if (n <= 1 || text.length < n) return [text];
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
