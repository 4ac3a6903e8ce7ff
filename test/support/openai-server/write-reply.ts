import type { ServerResponse } from "node:http";
import type { Reply, ResponseUsage } from "./types";

let seq = 0;
const nextId = (prefix: string) => `${prefix}_${process.pid}_${++seq}`;

/** The SSE stream codex 0.171.0 accepts: `response.created`, one `output_item.done` per item, `response.completed`. */
export function writeReplyStream(
  res: ServerResponse,
  reply: Exclude<Reply, { silentForMs: number } | { status: number }>,
  model: string,
): void {
  const responseId = nextId("resp");
  const items: Record<string, unknown>[] = [];
  if (reply.reasoning) {
    items.push({ type: "reasoning", id: nextId("rs"), summary: [{ type: "summary_text", text: reply.reasoning }] });
  }
  if ("call" in reply) {
    const args = typeof reply.call.arguments === "string" ? reply.call.arguments : JSON.stringify(reply.call.arguments);
    items.push({
      type: "function_call",
      id: nextId("fc"),
      call_id: nextId("call"),
      name: reply.call.name,
      arguments: args,
    });
  } else if ("customCall" in reply) {
    const { name, input } = reply.customCall;
    items.push({ type: "custom_tool_call", id: nextId("ctc"), call_id: nextId("call"), name, input });
  } else {
    items.push({
      type: "message",
      role: "assistant",
      id: nextId("msg"),
      content: [{ type: "output_text", text: reply.text, annotations: [] }],
    });
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const send = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  send("response.created", { response: { id: responseId, model, status: "in_progress" } });
  for (const [index, item] of items.entries()) send("response.output_item.done", { output_index: index, item });
  send("response.completed", { response: { id: responseId, model, status: "completed", usage: usageOf(reply.usage) } });
  res.end();
}

function usageOf(usage: ResponseUsage | undefined) {
  const u = usage ?? { input_tokens: 1000, cached_tokens: 200, output_tokens: 50 };
  return {
    input_tokens: u.input_tokens,
    input_tokens_details: { cached_tokens: u.cached_tokens ?? 0 },
    output_tokens: u.output_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.input_tokens + u.output_tokens,
  };
}

/** An OpenAI-style error body with the status codex classifies (429 and 5xx are retried by codex itself). */
export function writeApiError(
  res: ServerResponse,
  reply: { status: number; retryAfter?: number; message?: string },
): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (reply.retryAfter !== undefined) headers["retry-after"] = String(reply.retryAfter);
  res.writeHead(reply.status, headers);
  const type =
    reply.status === 429 ? "rate_limit_exceeded" : reply.status >= 500 ? "server_error" : "invalid_request_error";
  res.end(JSON.stringify({ error: { message: reply.message ?? `scripted ${reply.status}`, type, code: type } }));
}
