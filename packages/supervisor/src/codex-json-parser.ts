import { isValidSessionId } from "@forgehand/core";
import { classifyApiErrorText } from "./classify-api-error-text";
import { createLiveTokenEstimate } from "./live-token-estimate";
import { isObject, type Json, num, short, str } from "./stream-json-fields";
import type { AgentEvent } from "./types";

export interface CodexParserOptions {
  /** The agent's working directory: changed file paths are reported relative to it. */
  cwd?: string;
  /** The model codex was started with (`-m`, `-c model=`, agent config `model:`); the stream never names it. */
  model?: string;
  onMalformed?: (line: string, why: string) => void;
}

/** Item types that are one tool call each (`maxTurns` counts tool calls for every parser). */
const TOOL_ITEMS = new Set(["command_execution", "file_change", "mcp_tool_call", "web_search", "collab_tool_call"]);

/**
 * Parser for `codex exec --json` (codex-cli 0.171.0): `thread.started`, `item.*`, `turn.completed|failed`,
 * `error`. A tool item yields an `assistant` event keyed by its item id (started and completed share the id, the
 * run meter counts it once); `turn.completed` carries the thread's cumulative usage and ends the run, so it yields
 * the usage (keyed once) and the `result` with the last agent message. Until then a live estimate (usage marked
 * `estimated`, same key) is reported after every model response, from the text the stream shows.
 */
export function createCodexJsonParser(options: CodexParserOptions = {}): (line: string) => AgentEvent[] {
  const model = options.model;
  let sessionId: string | undefined;
  let lastMessage: string | undefined;
  let lastError: string | undefined;
  let usageSeq = 0;
  /**
   * Tool items reported at `item.started` and not completed yet: started, updated and completed describe one call,
   * consumers see it once. Only calls in flight are kept (a long run has hundreds of thousands of items), and the
   * run meter counts a repeated id once anyway.
   */
  const inFlight = new Set<string>();
  let live = createLiveTokenEstimate();
  return function parseCodexLine(line) {
    // A JSON line starts with `{`: only other lines need the (copying) blank check.
    if (line.charCodeAt(0) !== 0x7b && line.trim() === "") return [];
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
      case "thread.started": {
        const id = str(obj.thread_id);
        // The id becomes argv of the `/retry` run: only a resumable-shaped one is reported.
        if (!isValidSessionId(id)) return [];
        sessionId = id;
        return [{ type: "session", sessionId: id, ...(model ? { model } : {}) }];
      }
      case "item.started":
      case "item.updated":
      case "item.completed":
        return parseItem(obj.type, isObject(obj.item) ? obj.item : {});
      case "turn.completed": {
        const usage = isObject(obj.usage) ? obj.usage : {};
        const input = num(usage.input_tokens);
        const cached = Math.min(num(usage.cached_input_tokens), input);
        live = createLiveTokenEstimate();
        return [
          {
            type: "usage",
            // One `codex exec` is one turn; its usage is cumulative, so each turn's report is one keyed total.
            messageId: `codex-turn-${++usageSeq}`,
            ...(model ? { model } : {}),
            inputTokens: input - cached,
            outputTokens: num(usage.output_tokens),
            cacheReadTokens: cached,
            cacheWriteTokens: num(usage.cache_write_input_tokens),
          },
          { type: "result", isError: false, subtype: "success", text: lastMessage, sessionId },
        ];
      }
      case "turn.failed": {
        const message = str(isObject(obj.error) ? obj.error.message : undefined) ?? lastError ?? "turn failed";
        const events: AgentEvent[] = [];
        // `error` precedes `turn.failed` with the same message: one api_error per failure.
        if (message !== lastError) events.push(apiError(message));
        events.push({ type: "result", isError: true, subtype: "turn_failed", text: short(message), sessionId });
        return events;
      }
      case "error": {
        const message = str(obj.message) ?? "error";
        const retry = retryOf(message);
        if (retry) return [retry];
        lastError = message;
        return [apiError(lastError)];
      }
      default:
        return [];
    }
  };

  function parseItem(phase: string, item: Json): AgentEvent[] {
    const id = str(item.id);
    const type = str(item.type) ?? "";
    if (type === "agent_message" || type === "reasoning") {
      if (phase !== "item.completed") return [];
      const text = str(item.text) ?? "";
      live.output(text.length);
      if (type === "reasoning") return [];
      lastMessage = text;
      const message: AgentEvent = { type: "assistant", messageId: id, usesTool: false, tools: [], text: short(text) };
      // A message is the end of a model response (the final answer, or narration before the next request).
      const usage = liveUsage();
      return usage ? [message, usage] : [message];
    }
    if (TOOL_ITEMS.has(type)) {
      const events: AgentEvent[] = [];
      const completed = phase === "item.completed";
      const seen = id !== undefined && inFlight.has(id);
      if (!seen) {
        const tool = toolOf(type, item);
        live.output(tool.name.length + tool.input.length);
        events.push({ type: "assistant", messageId: id, usesTool: true, tools: [tool] });
      }
      if (completed) {
        if (seen) inFlight.delete(id as string);
        // The model's response asked for this call; its output goes into the next request.
        const usage = liveUsage();
        if (usage) events.push(usage);
        live.context(outputLength(item));
        if (type === "command_execution" || type === "mcp_tool_call") {
          const isError = item.status === "failed" || item.status === "declined" || isObject(item.error);
          events.push({ type: "tool_result", toolUseId: id, isError, text: outputOf(item) });
        }
      } else if (!seen && id !== undefined) inFlight.add(id);
      return events;
    }
    return [];
  }

  /** The running estimate once a model response ended, keyed like the turn's real usage that replaces it. */
  function liveUsage(): AgentEvent | undefined {
    const t = live.endResponse();
    if (!t) return undefined;
    return {
      type: "usage",
      messageId: `codex-turn-${usageSeq + 1}`,
      model,
      inputTokens: t.inputTokens,
      outputTokens: t.outputTokens,
      cacheReadTokens: t.cacheReadTokens,
      cacheWriteTokens: 0,
      estimated: true,
    };
  }

  function toolOf(type: string, item: Json): { name: string; input: string } {
    switch (type) {
      case "command_execution":
        return { name: "shell", input: short(unwrapShell(str(item.command) ?? "")) };
      case "file_change": {
        const changes = Array.isArray(item.changes) ? item.changes.filter(isObject) : [];
        const paths = changes.map((c) => `${str(c.kind) ?? "update"} ${relative(str(c.path) ?? "?")}`);
        return { name: "apply_patch", input: short(paths.join(", ")) };
      }
      case "mcp_tool_call":
        return {
          name: `mcp:${str(item.server) ?? "?"}/${str(item.tool) ?? "?"}`,
          input: short(JSON.stringify(item.arguments) ?? ""),
        };
      case "web_search":
        return { name: "web_search", input: short(str(item.query) ?? "") };
      default:
        return { name: str(item.tool) ?? type, input: short(str(item.prompt) ?? "") };
    }
  }

  function relative(path: string): string {
    const cwd = options.cwd?.replace(/\/+$/, "");
    if (cwd && path.startsWith(`${cwd}/`)) return path.slice(cwd.length + 1);
    return path;
  }
}

/**
 * codex 0.171.0 announces its own retry of a failed model stream as a non-fatal `error` when the wait starts:
 * `Reconnecting... 1/3 (exceeded retry limit, last status: 429 Too Many Requests)`. It honours the API's
 * Retry-After but does not print it, so `delayMs` is set only when the text itself names a delay.
 */
function retryOf(message: string): AgentEvent | undefined {
  const m = /^Reconnecting\.{3}\s*(\d{1,4})\/(\d{1,4})\b/.exec(message);
  if (!m) return undefined;
  const facts = classifyApiErrorText(message);
  return {
    type: "api_retry",
    attempt: Number(m[1]),
    maxRetries: Number(m[2]),
    ...(facts.retryAfterMs !== undefined ? { delayMs: facts.retryAfterMs } : {}),
    ...(facts.status !== undefined ? { status: facts.status } : {}),
    error: short(message),
  };
}

function apiError(message: string): AgentEvent {
  return { type: "api_error", ...classifyApiErrorText(message), message: short(message) };
}

/** `/bin/bash -lc 'echo hi'` → `echo hi`: the status comment shows what the model asked for. */
function unwrapShell(command: string): string {
  const m = /^\/bin\/(?:ba|z)?sh -l?c (.*)$/s.exec(command);
  if (!m) return command;
  const rest = m[1] as string;
  return rest.startsWith("'") && rest.endsWith("'") ? rest.slice(1, -1).replaceAll("'\\''", "'") : rest;
}

/** Characters a tool's result adds to the conversation (the whole output, not the short summary). */
function outputLength(item: Json): number {
  const out = str(item.aggregated_output);
  if (out !== undefined) return out.length;
  if (isObject(item.result)) return (JSON.stringify(item.result.content) ?? "").length;
  return 0;
}

function outputOf(item: Json): string | undefined {
  const text = str(item.aggregated_output) ?? (isObject(item.error) ? str(item.error.message) : undefined);
  return text ? short(text) : undefined;
}
