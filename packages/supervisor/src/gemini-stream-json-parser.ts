import { isAbsolute, relative } from "node:path";
import { isValidSessionId } from "@forgehand/core";
import type { ParserOptions } from "./claude-stream-json-parser";
import { geminiApiError } from "./gemini-api-error";
import { createLiveTokenEstimate } from "./live-token-estimate";
import { isObject, type Json, num, short, str } from "./stream-json-fields";
import type { AgentEvent } from "./types";

export interface GeminiParserOptions extends ParserOptions {
  /** The agent's working directory (the worktree): file paths inside it are reported relative to it. */
  cwd?: string;
}

/** Longest tool input / tool output kept in an event (status comments show only a short summary). */
/** Longest final message kept: the assistant's text arrives in deltas of any number and size. */
const TEXT_MAX = 64 * 1024;
/** Parameters that name a file or directory (Gemini CLI's tools pass absolute paths). */
const PATH_KEYS = new Set(["file_path", "absolute_path", "dir_path", "path"]);
const SUMMARY_KEYS = ["command", "file_path", "absolute_path", "dir_path", "path", "pattern", "query", "url", "prompt"];

/**
 * Parser for Gemini CLI's `--output-format stream-json` (gemini-cli 0.61.0): `init`, `message`, `tool_use`,
 * `tool_result`, `error`, `result` lines. Each `tool_use` is one tool turn (its `tool_id` counted once); tokens
 * come only in the final `result` (session totals per model); the final message is the assistant text after the
 * last tool call (Gemini streams it as `delta` chunks). The stream carries no cost: it is priced from tokens.
 * Until the `result`, a live estimate (usage marked `estimated`) follows every model response that called tools.
 */
export function createGeminiStreamJsonParser(options: GeminiParserOptions = {}): (line: string) => AgentEvent[] {
  let sessionId: string | undefined;
  let model: string | undefined;
  let text = "";
  const toolIds = new Set<string>();
  const live = createLiveTokenEstimate();

  return function parseGeminiLine(line) {
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
      case "init": {
        const id = str(obj.session_id);
        model = str(obj.model) ?? model;
        // The id becomes argv of the `/retry` run: only the shape of a resumable id is kept.
        if (!isValidSessionId(id)) return [];
        sessionId = id;
        return [{ type: "session", sessionId: id, ...(model ? { model } : {}) }];
      }
      case "message": {
        if (typeof obj.content !== "string") return [];
        if (obj.role === "user") live.context(obj.content.length);
        if (obj.role !== "assistant") return [];
        live.output(obj.content.length);
        text = obj.delta === true ? text + obj.content : obj.content;
        if (text.length > TEXT_MAX) text = text.slice(0, TEXT_MAX);
        return [];
      }
      case "tool_use": {
        const id = str(obj.tool_id);
        if (id !== undefined) {
          if (toolIds.has(id)) return [];
          toolIds.add(id);
        }
        // Text before a tool call is narration, not the final message.
        text = "";
        const name = str(obj.tool_name) ?? "?";
        const input = summariseParameters(obj.parameters, options.cwd);
        live.output(name.length + input.length);
        return [{ type: "assistant", messageId: id, model, usesTool: true, tools: [{ name, input }] }];
      }
      case "tool_result": {
        const error = isObject(obj.error) ? str(obj.error.message) : undefined;
        const output = str(obj.output) ?? error;
        // The response that called this tool is over; its output goes into the next request.
        const t = live.endResponse();
        live.context(output?.length ?? 0);
        return [
          ...(t
            ? [
                {
                  type: "usage" as const,
                  messageId: `gemini-result:${model ?? "?"}`,
                  ...(model ? { model } : {}),
                  ...t,
                  cacheWriteTokens: 0,
                  estimated: true,
                },
              ]
            : []),
          {
            type: "tool_result",
            toolUseId: str(obj.tool_id),
            isError: obj.status !== "success",
            ...(output ? { text: short(output) } : {}),
          },
        ];
      }
      case "error": {
        const event = geminiApiError(str(obj.message) ?? "");
        return event ? [event] : [];
      }
      case "result":
        return parseResult(obj, sessionId, model, text);
      default:
        return [];
    }
  };
}

function parseResult(obj: Json, sessionId: string | undefined, model: string | undefined, text: string): AgentEvent[] {
  const events: AgentEvent[] = usageEvents(obj.stats, model);
  const ok = obj.status === "success";
  const error = isObject(obj.error) ? obj.error : undefined;
  const errorMessage = error ? str(error.message) : undefined;
  if (!ok && errorMessage) {
    const apiError = geminiApiError(errorMessage);
    if (apiError) events.push(apiError);
  }
  events.push({
    type: "result",
    isError: !ok,
    subtype: ok ? "success" : `error_${str(error?.type) ?? "unknown"}`,
    text: ok ? text || undefined : (errorMessage ?? text) || undefined,
    ...(sessionId ? { sessionId } : {}),
  });
  return events;
}

/**
 * One usage event per model in `stats.models`, else one for the session totals. Keyed by model so a repeated
 * result line replaces rather than adds. `input_tokens` includes the cached part; `input` is the uncached rest.
 */
function usageEvents(stats: unknown, model: string | undefined): AgentEvent[] {
  if (!isObject(stats)) return [];
  const perModel = isObject(stats.models) ? Object.entries(stats.models).filter(([, v]) => isObject(v)) : [];
  const rows: [string | undefined, Json][] = perModel.length > 0 ? (perModel as [string, Json][]) : [[model, stats]];
  return rows
    .map(([name, row]) => {
      const cached = num(row.cached);
      const input = typeof row.input === "number" ? num(row.input) : Math.max(0, num(row.input_tokens) - cached);
      return {
        type: "usage" as const,
        messageId: `gemini-result:${name ?? "?"}`,
        ...(name ? { model: name } : {}),
        inputTokens: input,
        outputTokens: num(row.output_tokens),
        cacheReadTokens: cached,
        cacheWriteTokens: 0,
      };
    })
    .filter((u) => u.inputTokens + u.outputTokens + u.cacheReadTokens > 0);
}

/** The field a human would look at (paths relative to the worktree), else compact JSON. */
function summariseParameters(params: unknown, cwd: string | undefined): string {
  if (isObject(params)) {
    for (const key of SUMMARY_KEYS) {
      const value = params[key];
      if (typeof value !== "string") continue;
      return short(PATH_KEYS.has(key) && cwd ? relativeTo(cwd, value) : value);
    }
  }
  return short(JSON.stringify(params) ?? "");
}

function relativeTo(cwd: string, path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(cwd, path);
  if (rel === "") return ".";
  return rel.startsWith("..") || isAbsolute(rel) ? path : rel;
}
