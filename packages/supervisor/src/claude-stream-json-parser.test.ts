import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createClaudeStreamJsonParser } from "./claude-stream-json-parser";
import { DEFAULT_PRICES } from "./estimate-cost-usd";
import { createLinesParser } from "./lines-parser";
import { createRunMeter } from "./run-meter";
import type { AgentEvent } from "./types";

/** Real Claude Code 2.1.332 output recorded against the scripted model server (see its README). */
function recording(name: string): string[] {
  const path = fileURLToPath(new URL(`../../../test/fixtures/claude/${name}`, import.meta.url));
  return readFileSync(path, "utf8").split("\n").filter(Boolean);
}

function parseAll(lines: string[]) {
  const malformed: string[] = [];
  const parse = createClaudeStreamJsonParser({ onMalformed: (line) => malformed.push(line) });
  return { events: lines.flatMap(parse), malformed };
}

describe("createClaudeStreamJsonParser on constructed lines", () => {
  const parse = createClaudeStreamJsonParser();

  it("reads the session, tool turns with short inputs, usage, tool results and the result", () => {
    const lines = [
      { type: "system", subtype: "init", session_id: "sess-0001", model: "claude-sonnet-4-5" },
      {
        type: "assistant",
        message: {
          id: "msg_1",
          model: "claude-sonnet-4-5",
          content: [
            { type: "text", text: "Let me look." },
            { type: "tool_use", id: "tu_1", name: "Bash", input: { command: "ls -la\nsrc", description: "list" } },
          ],
          usage: { input_tokens: 5, output_tokens: 7, cache_read_input_tokens: 11, cache_creation_input_tokens: 13 },
        },
      },
      {
        type: "user",
        message: {
          content: [
            { type: "tool_result", tool_use_id: "tu_1", is_error: true, content: [{ type: "text", text: "boom" }] },
          ],
        },
      },
      {
        type: "result",
        subtype: "error_max_turns",
        is_error: true,
        total_cost_usd: 0.5,
        num_turns: 9,
        result: "x",
        session_id: "sess-0001",
        terminal_reason: "max_turns",
        api_error_status: null,
        modelUsage: {
          "claude-sonnet-4-5": { inputTokens: 5, outputTokens: 7, cacheReadInputTokens: 11, costUSD: 0.5 },
        },
      },
    ];
    expect(lines.flatMap((l) => parse(JSON.stringify(l)))).toEqual<AgentEvent[]>([
      { type: "session", sessionId: "sess-0001", model: "claude-sonnet-4-5" },
      {
        type: "assistant",
        messageId: "msg_1",
        model: "claude-sonnet-4-5",
        usesTool: true,
        tools: [{ name: "Bash", input: "ls -la src", id: "tu_1" }],
        text: "Let me look.",
      },
      {
        type: "usage",
        messageId: "msg_1",
        model: "claude-sonnet-4-5",
        inputTokens: 5,
        outputTokens: 7,
        cacheReadTokens: 11,
        cacheWriteTokens: 13,
      },
      { type: "tool_result", toolUseId: "tu_1", isError: true, text: "boom" },
      {
        type: "result",
        isError: true,
        subtype: "error_max_turns",
        totalCostUsd: 0.5,
        numTurns: 9,
        text: "x",
        sessionId: "sess-0001",
        terminalReason: "max_turns",
        modelUsage: {
          "claude-sonnet-4-5": {
            inputTokens: 5,
            outputTokens: 7,
            cacheReadTokens: 11,
            cacheWriteTokens: 0,
            costUsd: 0.5,
          },
        },
      },
    ]);
  });

  it("reads Claude 2.1.3xx retry and rate-limit events and api_error_status as typed events", () => {
    const retry = {
      type: "system",
      subtype: "api_retry",
      attempt: 2,
      max_retries: 10,
      retry_delay_ms: 1172,
      error_status: 529,
      error: "overloaded_error",
      session_id: "s",
    };
    expect(parse(JSON.stringify(retry))).toEqual([
      { type: "api_retry", attempt: 2, maxRetries: 10, delayMs: 1172, status: 529, error: "overloaded_error" },
    ]);
    // A dropped connection: `error_status: null`.
    expect(parse(JSON.stringify({ ...retry, error_status: null, error: "unknown" }))).toMatchObject([
      { type: "api_retry", status: undefined, error: "unknown" },
    ]);
    const rate = {
      type: "rate_limit_event",
      rate_limit_info: { status: "rejected", resetsAt: 1_780_000_000, rateLimitType: "five_hour" },
    };
    expect(parse(JSON.stringify(rate))).toEqual([
      { type: "rate_limit", status: "rejected", resetsAt: 1_780_000_000_000, limitType: "five_hour" },
    ]);
    const failed = { type: "result", subtype: "success", is_error: true, api_error_status: 429, total_cost_usd: 0 };
    expect(parse(JSON.stringify(failed))).toMatchObject([{ type: "result", isError: true, apiErrorStatus: 429 }]);
    // Hostile values are dropped, not trusted.
    expect(parse(JSON.stringify({ ...failed, api_error_status: "429; rm -rf" }))).toMatchObject([
      { type: "result", apiErrorStatus: undefined },
    ]);
  });

  it("keeps long tool inputs short", () => {
    const line = JSON.stringify({
      type: "assistant",
      message: { id: "m", content: [{ type: "tool_use", name: "Write", input: { content: "y".repeat(10_000) } }] },
    });
    const [event] = parse(line);
    expect(event?.type === "assistant" && event.tools[0]!.input.length).toBe(200);
  });

  it("skips malformed lines and reports each, never throwing", () => {
    const { events, malformed } = parseAll([
      "not json",
      '{"type":',
      "[1,2]",
      "null",
      '{"no":"type"}',
      "",
      '{"type":"assistant","message":"weird"}',
      '{"type":"user","message":{"content":"plain prompt echo"}}',
      '{"type":"stream_event","event":{}}',
    ]);
    expect(malformed).toEqual(["not json", '{"type":', "[1,2]", "null", '{"no":"type"}']);
    expect(events).toEqual([{ type: "assistant", messageId: undefined, model: undefined, usesTool: false, tools: [] }]);
  });
});

describe("createClaudeStreamJsonParser and agent-chosen session ids", () => {
  it("does not report a session_id that is flag-like or malformed, in the init line or the result", () => {
    const parse = createClaudeStreamJsonParser();
    for (const id of ["--dangerously-skip-permissions", "-abcdefgh", "short", "a b c d e f g h", "x".repeat(129), 42]) {
      expect(parse(JSON.stringify({ type: "system", subtype: "init", session_id: id, model: "m" }))).toEqual([]);
      const [result] = parse(JSON.stringify({ type: "result", subtype: "success", session_id: id }));
      expect(result).toMatchObject({ type: "result" });
      expect((result as { sessionId?: string }).sessionId).toBeUndefined();
    }
    expect(parse(JSON.stringify({ type: "system", subtype: "init", session_id: "d3ddd72c-efd8-442e" }))).toEqual([
      { type: "session", sessionId: "d3ddd72c-efd8-442e", model: undefined },
    ]);
  });
});

describe("createClaudeStreamJsonParser on recorded Claude Code output", () => {
  it("write-file.jsonl: one Write turn, a text answer, a success result", () => {
    const { events, malformed } = parseAll(recording("write-file.jsonl"));
    expect(malformed).toEqual([]);
    expect(events.map((e) => e.type)).toEqual([
      "session",
      "assistant",
      "usage",
      "tool_result",
      "assistant",
      "usage",
      "result",
    ]);
    expect(events[1]).toMatchObject({
      usesTool: true,
      tools: [{ name: "Write", input: "/tmp/forgehand-fixture/repo/hello.txt" }],
    });
    expect(events.at(-1)).toMatchObject({
      type: "result",
      isError: false,
      totalCostUsd: 0.00028000000000000003,
      numTurns: 2,
    });
    const meter = createRunMeter({}, DEFAULT_PRICES);
    for (const e of events) meter.apply(e);
    expect(meter.turns).toBe(1);
    expect(meter.costUsd).toBe(0.00028000000000000003);
    expect(meter.sessionId).toBe("927a6949-dfbd-4705-ad8e-ab2ab57973e6");
  });

  it("max-turns.jsonl: three tool turns then an error_max_turns result", () => {
    const { events } = parseAll(recording("max-turns.jsonl"));
    const meter = createRunMeter({ maxTurns: 2 }, DEFAULT_PRICES);
    const limits = events.map((e) => meter.apply(e).limit).filter(Boolean);
    expect(meter.turns).toBe(3);
    expect(limits).toEqual([{ reason: "turn_limit", detail: "turn limit: tool call 3 exceeds maxTurns 2" }]);
    expect(meter.result).toMatchObject({ isError: true, subtype: "error_max_turns" });
  });

  it("tool-loop.jsonl (killed mid-run): turns counted, no result", () => {
    const { events } = parseAll(recording("tool-loop.jsonl"));
    const meter = createRunMeter({}, DEFAULT_PRICES);
    for (const e of events) meter.apply(e);
    expect(meter.turns).toBe(3);
    expect(meter.result).toBeUndefined();
  });

  it("error results are errors even with subtype success (API 400 and exhausted 429 retries)", () => {
    for (const name of ["error-result.jsonl", "api-429-exhausted.jsonl"]) {
      const { events, malformed } = parseAll(recording(name));
      expect(malformed).toEqual([]);
      expect(events.at(-1)).toMatchObject({ type: "result", isError: true, subtype: "success" });
    }
  });

  it("api-429.jsonl / api-429-exhausted.jsonl (2.1.332): typed api_retry events, terminal_reason, api_error_status, modelUsage", () => {
    const retried = parseAll(recording("api-429.jsonl")).events;
    expect(retried.filter((e) => e.type === "api_retry")).toEqual([
      { type: "api_retry", attempt: 1, maxRetries: 10, delayMs: 1200, status: 429, error: "rate_limit" },
      { type: "api_retry", attempt: 2, maxRetries: 10, delayMs: 1200, status: 429, error: "rate_limit" },
    ]);
    expect(retried.at(-1)).toMatchObject({
      type: "result",
      isError: false,
      terminalReason: "completed",
      apiErrorStatus: undefined,
      modelUsage: { "claude-opus-5-5": { inputTokens: 10, outputTokens: 5, costUsd: 0.00014000000000000001 } },
    });
    const exhausted = parseAll(recording("api-429-exhausted.jsonl")).events;
    expect(exhausted.at(-1)).toMatchObject({
      type: "result",
      isError: true,
      terminalReason: "api_error",
      apiErrorStatus: 429,
    });
  });

  it("budget.jsonl: the running estimate crosses the budget before the agent's own report", () => {
    const { events } = parseAll(recording("budget.jsonl"));
    const meter = createRunMeter({ maxBudgetUsd: 1.5 }, DEFAULT_PRICES);
    const hits = events.map((e, i) => ({ i, limit: meter.apply(e).limit })).filter((h) => h.limit);
    // 200k input tokens per message at $4/Mtok (claude-opus-5-5) = $0.80 each: the 2nd message's usage (event
    // index 5) crosses $1.50.
    expect(hits[0]).toEqual({
      i: 5,
      limit: { reason: "budget_limit", detail: "budget limit: cost $1.6000 exceeds maxBudgetUsd $1.5" },
    });
    expect(meter.costUsd).toBe(2.4006);
  });
});

describe("createLinesParser", () => {
  it("yields one line event per non-empty line", () => {
    const parse = createLinesParser();
    expect(["hello", "", "  "].flatMap(parse)).toEqual([{ type: "line", text: "hello" }]);
  });
});
