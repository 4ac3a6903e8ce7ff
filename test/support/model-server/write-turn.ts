import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Turn, TurnUsage } from "./types";

type ContentTurn = Extract<Turn, { text: string }> | Extract<Turn, { toolUse: unknown }>;
type ErrorTurn = Extract<Turn, { status: number }>;

const DEFAULT_USAGE: TurnUsage = { input_tokens: 10, output_tokens: 5 };

// Anthropic error types by HTTP status, see https://docs.anthropic.com/en/api/errors
const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

/** The content blocks of a text or tool-use turn, in Messages API shape. */
export function contentBlocks(turn: ContentTurn): Array<Record<string, unknown>> {
  const blocks: Array<Record<string, unknown>> = [];
  if ("text" in turn && turn.text !== undefined) blocks.push({ type: "text", text: turn.text });
  if ("toolUse" in turn) {
    const id = `toolu_${randomUUID().replaceAll("-", "").slice(0, 24)}`;
    blocks.push({ type: "tool_use", id, name: turn.toolUse.name, input: turn.toolUse.input });
  }
  return blocks;
}

function stopReasonOf(turn: ContentTurn): string {
  return "toolUse" in turn ? "tool_use" : "end_turn";
}

/** Answers a non-streaming request with one complete message. */
export function writeJsonMessage(res: ServerResponse, turn: ContentTurn, model: string): void {
  const usage = turn.usage ?? DEFAULT_USAGE;
  const message = {
    id: `msg_${randomUUID().replaceAll("-", "")}`,
    type: "message",
    role: "assistant",
    model,
    content: contentBlocks(turn),
    stop_reason: stopReasonOf(turn),
    stop_sequence: null,
    usage,
  };
  res.writeHead(200, { "content-type": "application/json", "request-id": `req_${randomUUID()}` });
  res.end(JSON.stringify(message));
}

/** Answers a streaming request with the full server-sent event sequence of one message. */
export function writeSseMessage(res: ServerResponse, turn: ContentTurn, model: string): void {
  const usage = turn.usage ?? DEFAULT_USAGE;
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "request-id": `req_${randomUUID()}`,
  });
  const send = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  send("message_start", {
    message: {
      id: `msg_${randomUUID().replaceAll("-", "")}`,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: usage.input_tokens, output_tokens: 1 },
    },
  });
  send("ping", {});
  contentBlocks(turn).forEach((block, index) => {
    if (block.type === "text") {
      send("content_block_start", { index, content_block: { type: "text", text: "" } });
      for (const piece of chunks(String(block.text), 16)) {
        send("content_block_delta", { index, delta: { type: "text_delta", text: piece } });
      }
    } else {
      send("content_block_start", { index, content_block: { ...block, input: {} } });
      // Real streams split the tool input JSON at arbitrary points; so do we, to exercise the CLI's assembler.
      for (const piece of chunks(JSON.stringify(block.input), 24)) {
        send("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: piece } });
      }
    }
    send("content_block_stop", { index });
  });
  send("message_delta", {
    delta: { stop_reason: stopReasonOf(turn), stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  send("message_stop", {});
  res.end();
}

/** Answers with an API error body and, for 429, a `retry-after` header in seconds. */
export function writeApiError(res: ServerResponse, turn: ErrorTurn): void {
  const type = ERROR_TYPES[turn.status] ?? "api_error";
  const headers: Record<string, string> = { "content-type": "application/json", "request-id": `req_${randomUUID()}` };
  if (turn.retryAfter !== undefined && turn.retryAfter >= 0) headers["retry-after"] = String(turn.retryAfter);
  if (turn.status === 429) headers["anthropic-ratelimit-requests-remaining"] = "0";
  res.writeHead(turn.status, headers);
  res.end(JSON.stringify({ type: "error", error: { type, message: turn.message ?? `scripted ${type}` } }));
}

function chunks(text: string, size: number): string[] {
  if (text.length === 0) return [""];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
