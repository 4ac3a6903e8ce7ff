import { isValidSessionId } from "@forgehand/core";
import { isObject, type Json, num, SHORT, short, str } from "./stream-json-fields";
import type { AgentEvent, ModelUsage } from "./types";

export interface ParserOptions {
  /** Called for each line that is not a stream-json object (the line is skipped, never fatal). */
  onMalformed?: (line: string, why: string) => void;
}

/** Longest tool input / text kept in an event (status comments show only a short summary). */

/**
 * Parser for Claude Code's `-p --output-format stream-json --verbose` output: one JSON object per line.
 * Claude Code emits one `assistant` line PER CONTENT BLOCK with the same message id and repeated usage, so the
 * events carry `messageId` and consumers count turns and usage once per id.
 */
export function createClaudeStreamJsonParser(options: ParserOptions = {}): (line: string) => AgentEvent[] {
  return function parseClaudeLine(line) {
    if (line.trim() === "") return [];
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      options.onMalformed?.(line, "not JSON");
      return [];
    }
    if (!isObject(obj) || typeof obj.type !== "string") {
      options.onMalformed?.(line, "not an object with a string `type`");
      return [];
    }
    switch (obj.type) {
      case "system":
        return parseSystem(obj);
      case "assistant":
        return parseAssistant(obj);
      case "user":
        return parseUser(obj);
      case "result":
        return [parseResult(obj)];
      case "rate_limit_event":
        return [parseRateLimit(obj)];
      default:
        // stream_event, control messages, future types: not needed by the watchdog.
        return [];
    }
  };
}

/**
 * The line's `session_id` if it has the shape of a resumable id, else undefined: the agent writes this output,
 * and a reported id becomes argv of the `/retry` run (`--resume --dangerously-skip-permissions` must go nowhere).
 */
function sessionIdOf(obj: Json): string | undefined {
  const id = str(obj.session_id);
  return isValidSessionId(id) ? id : undefined;
}

function parseSystem(obj: Json): AgentEvent[] {
  if (obj.subtype === "api_retry") {
    return [
      {
        type: "api_retry",
        attempt: count(obj.attempt),
        maxRetries: count(obj.max_retries),
        delayMs: count(obj.retry_delay_ms),
        status: count(obj.error_status),
        error: str(obj.error)?.slice(0, SHORT),
      },
    ];
  }
  if (obj.subtype === "rate_limit_event" || obj.subtype === "rate_limit") return [parseRateLimit(obj)];
  const sessionId = sessionIdOf(obj);
  if (obj.subtype !== "init" || sessionId === undefined) return [];
  return [{ type: "session", sessionId, model: str(obj.model) }];
}

function parseAssistant(obj: Json): AgentEvent[] {
  const message = isObject(obj.message) ? obj.message : {};
  const messageId = str(message.id);
  const model = str(message.model);
  const content = Array.isArray(message.content) ? message.content.filter(isObject) : [];
  const tools = content
    .filter((block) => block.type === "tool_use")
    .map((block) => {
      const id = str(block.id);
      return { name: str(block.name) ?? "?", input: summariseInput(block.input), ...(id ? { id } : {}) };
    });
  const text = content
    .filter((block) => block.type === "text" && typeof block.text === "string")
    .map((block) => block.text as string)
    .join("\n");
  const events: AgentEvent[] = [
    { type: "assistant", messageId, model, usesTool: tools.length > 0, tools, text: text ? short(text) : undefined },
  ];
  if (isObject(message.usage)) {
    const usage = message.usage;
    events.push({
      type: "usage",
      messageId,
      model,
      inputTokens: num(usage.input_tokens),
      outputTokens: num(usage.output_tokens),
      cacheReadTokens: num(usage.cache_read_input_tokens),
      cacheWriteTokens: num(usage.cache_creation_input_tokens),
    });
  }
  return events;
}

function parseUser(obj: Json): AgentEvent[] {
  const message = isObject(obj.message) ? obj.message : {};
  if (!Array.isArray(message.content)) return [];
  return message.content
    .filter((block): block is Json => isObject(block) && block.type === "tool_result")
    .map((block) => ({
      type: "tool_result" as const,
      toolUseId: str(block.tool_use_id),
      isError: block.is_error === true,
      text: resultText(block.content),
    }));
}

function parseResult(obj: Json): AgentEvent {
  return {
    type: "result",
    isError: obj.is_error === true || (typeof obj.subtype === "string" && obj.subtype !== "success"),
    subtype: str(obj.subtype),
    totalCostUsd: typeof obj.total_cost_usd === "number" ? obj.total_cost_usd : undefined,
    numTurns: typeof obj.num_turns === "number" ? obj.num_turns : undefined,
    text: str(obj.result),
    sessionId: sessionIdOf(obj),
    terminalReason: str(obj.terminal_reason)?.slice(0, 60),
    apiErrorStatus: count(obj.api_error_status),
    modelUsage: parseModelUsage(obj.modelUsage),
  };
}

/** `rate_limit_event {rate_limit_info: {status, resetsAt (s), rateLimitType}}`. */
function parseRateLimit(obj: Json): AgentEvent {
  const info = isObject(obj.rate_limit_info) ? obj.rate_limit_info : obj;
  const resetsAt = count(info.resetsAt);
  return {
    type: "rate_limit",
    status: str(info.status)?.slice(0, 40),
    // Seconds since the epoch in the CLI's event; ms here like every other time of the supervisor.
    resetsAt: resetsAt === undefined ? undefined : resetsAt < 1e12 ? resetsAt * 1000 : resetsAt,
    limitType: str(info.rateLimitType)?.slice(0, 40),
  };
}

/** At most this many models are kept (the CLI writes the object; a hostile one must not grow the event). */
const MAX_MODELS = 16;

function parseModelUsage(value: unknown): Record<string, ModelUsage> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, ModelUsage> = {};
  for (const [model, raw] of Object.entries(value).slice(0, MAX_MODELS)) {
    if (!isObject(raw)) continue;
    const costUsd =
      typeof raw.costUSD === "number" && Number.isFinite(raw.costUSD) && raw.costUSD >= 0 ? raw.costUSD : undefined;
    out[model.slice(0, 100)] = {
      inputTokens: num(raw.inputTokens),
      outputTokens: num(raw.outputTokens),
      cacheReadTokens: num(raw.cacheReadInputTokens),
      cacheWriteTokens: num(raw.cacheCreationInputTokens),
      ...(costUsd !== undefined ? { costUsd } : {}),
    };
  }
  return Object.keys(out).length ? out : undefined;
}

/** A one-line summary of a tool input: the field a human would look at, else compact JSON. */
function summariseInput(input: unknown): string {
  if (isObject(input)) {
    for (const key of ["command", "file_path", "path", "pattern", "url", "description"]) {
      const value = input[key];
      if (typeof value === "string") return short(value);
    }
  }
  return short(JSON.stringify(input) ?? "");
}

function resultText(content: unknown): string | undefined {
  if (typeof content === "string") return short(content);
  if (Array.isArray(content)) {
    const text = content
      .filter(isObject)
      .map((part) => (typeof part.text === "string" ? part.text : ""))
      .join("\n");
    return text ? short(text) : undefined;
  }
  return undefined;
}

/** A non-negative finite number, else undefined. */
function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}
