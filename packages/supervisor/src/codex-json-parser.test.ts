import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createCodexJsonParser } from "./codex-json-parser";
import { createRunMeter } from "./run-meter";
import type { AgentEvent } from "./types";

/** Real codex-cli 0.171.0 `exec --json` output recorded against test/support/openai-server (see record.mts). */
function recording(name: string): string[] {
  const path = fileURLToPath(new URL(`../fixtures/codex/${name}`, import.meta.url));
  return readFileSync(path, "utf8").split("\n").filter(Boolean);
}

const PRICES = { "gpt-5.5": { input: 1, output: 10, cacheRead: 0.1 } };

function run(name: string, opts: { maxTurns?: number } = {}) {
  const parse = createCodexJsonParser({ cwd: "/WORKTREE", model: "gpt-5.5" });
  const meter = createRunMeter(opts, PRICES);
  const events = recording(name).flatMap(parse);
  const limits = events.map((e) => meter.apply(e).limit).filter(Boolean);
  return { events, meter, limits };
}

describe("createCodexJsonParser on real codex 0.171.0 streams", () => {
  it("edit.jsonl: session, one tool turn per item id, relative paths, usage once with the model, final text", () => {
    const { events, meter } = run("edit.jsonl");
    expect(events[0]).toEqual({ type: "session", sessionId: "01a2353a-f434-7420-abe9-b1f8c19bd4b1", model: "gpt-5.5" });
    const tools = events.flatMap((e) => (e.type === "assistant" && e.usesTool ? e.tools : []));
    // started + completed of each item: one tool call, reported once.
    expect(tools.map((t) => `${t.name} ${t.input}`)).toEqual([
      "shell ls",
      "apply_patch add src/hello.txt",
      "shell exit 3",
    ]);
    expect(meter.turns).toBe(3);
    const results = events.filter((e) => e.type === "tool_result");
    expect(results.map((r) => r.isError)).toEqual([false, true]);
    expect(events.filter((e) => e.type === "usage" && !e.estimated)).toEqual<AgentEvent[]>([
      {
        type: "usage",
        messageId: "codex-turn-1",
        model: "gpt-5.5",
        inputTokens: 5400,
        outputTokens: 350,
        cacheReadTokens: 1600,
        cacheWriteTokens: 0,
      },
    ]);
    // 5400 × $1 + 1600 × $0.10 + 350 × $10 per million: the real figure, every live estimate before it replaced.
    expect(meter.costUsd).toBeCloseTo(0.00906, 8);
    expect(meter.costEstimated).toBe(false);
    expect(meter.result).toMatchObject({ isError: false, text: "Wrote src/hello.txt." });
    expect(meter.sessionId).toBe("01a2353a-f434-7420-abe9-b1f8c19bd4b1");
  });

  it("edit.jsonl: a live estimate after each model response, the real usage replacing it at turn.completed", () => {
    const parse = createCodexJsonParser({ cwd: "/WORKTREE", model: "gpt-5.5" });
    const meter = createRunMeter({}, PRICES);
    const lines = recording("edit.jsonl");
    const costs: number[] = [];
    for (const line of lines.slice(0, -1))
      for (const e of parse(line)) if (meter.apply(e).changed) costs.push(meter.costUsd);
    const estimates = costs.filter((c) => c > 0);
    // One estimate per model response before the end (three tool calls, then the final message).
    expect(estimates.length).toBeGreaterThanOrEqual(3);
    expect([...estimates].sort((a, b) => a - b)).toEqual(estimates);
    expect(meter.costEstimated).toBe(true);
    for (const e of parse(lines.at(-1) as string)) meter.apply(e);
    expect(meter.costEstimated).toBe(false);
    expect(meter.costUsd).toBeCloseTo(0.00906, 8);
  });

  it("maxBudgetUsd stops a run mid-turn on the live estimate (large tool outputs re-sent to the model)", () => {
    const parse = createCodexJsonParser({ model: "gpt-5.5" });
    // $1 per million input tokens: each 400 KB output is ~100k tokens in the next request, about $0.10.
    const meter = createRunMeter({ maxBudgetUsd: 0.25 }, PRICES);
    const big = "x".repeat(400_000);
    const lines = [JSON.stringify({ type: "thread.started", thread_id: "01a2353a-f434-7420-abe9-b1f8c19bd4b1" })];
    for (let i = 0; i < 10; i++) {
      const item = { id: `item_${i}`, type: "command_execution", command: "/bin/bash -lc 'cat big'" };
      lines.push(JSON.stringify({ type: "item.started", item: { ...item, status: "in_progress" } }));
      lines.push(
        JSON.stringify({ type: "item.completed", item: { ...item, aggregated_output: big, status: "completed" } }),
      );
    }
    let stoppedAt = -1;
    lines.forEach((line, i) => {
      for (const e of parse(line)) if (stoppedAt < 0 && meter.apply(e).limit?.reason === "budget_limit") stoppedAt = i;
    });
    // Requests 2, 3 and 4 each carry one more output: the budget is crossed before half the calls ran.
    expect(stoppedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeLessThan(lines.length / 2);
    expect(meter.costEstimated).toBe(true);
  });

  it("enforces maxTurns on the tool calls (the third call crosses maxTurns 2)", () => {
    const { limits } = run("edit.jsonl", { maxTurns: 2 });
    expect(limits[0]).toMatchObject({ reason: "turn_limit" });
  });

  it("retry-429-then-ok.jsonl: codex's own retry is an api_retry (attempt, max, status), not an api_error", () => {
    const { events, meter } = run("retry-429-then-ok.jsonl");
    const retries = events.filter((e) => e.type === "api_retry");
    expect(retries).toEqual([expect.objectContaining({ type: "api_retry", attempt: 1, maxRetries: 3, status: 429 })]);
    // codex 0.171.0 waits out the Retry-After but does not print it.
    expect(retries[0]).not.toHaveProperty("delayMs");
    expect(events.some((e) => e.type === "api_error")).toBe(false);
    expect(meter.apiError).toBeUndefined();
    expect(meter.result).toMatchObject({ isError: false, text: "ok after retry" });
  });

  it("rate-limited.jsonl: one transient api_error with status 429, then an error result", () => {
    const { events, meter } = run("rate-limited.jsonl");
    expect(events.filter((e) => e.type === "api_error")).toEqual([
      {
        type: "api_error",
        status: 429,
        transient: true,
        message: "exceeded retry limit, last status: 429 Too Many Requests",
      },
    ]);
    expect(meter.result).toMatchObject({ isError: true, subtype: "turn_failed" });
    expect(meter.apiError).toMatchObject({ status: 429, transient: true });
  });

  it("server-error.jsonl is a transient 503; bad-request.jsonl a permanent 400-class error", () => {
    expect(run("server-error.jsonl").meter.apiError).toMatchObject({ status: 503, transient: true });
    const bad = run("bad-request.jsonl").meter.apiError;
    expect(bad?.transient).toBe(false);
    expect(bad?.message).toContain("invalid model");
  });

  it("unknown-model.jsonl: the metadata warning item is neither a turn nor an error result", () => {
    const { meter, events } = run("unknown-model.jsonl");
    expect(meter.turns).toBe(0);
    expect(events.some((e) => e.type === "api_error")).toBe(false);
    expect(meter.result).toMatchObject({ isError: false, text: "hi" });
  });

  it("resumed.jsonl: the resumed run reports the same thread id as the first run", () => {
    expect(run("resumed.jsonl").meter.sessionId).toBe("01a2353b-1f30-7263-81c9-7ec8fc52090b");
  });
});

describe("createCodexJsonParser on hostile lines", () => {
  it("skips non-JSON, refuses a flag-shaped thread id, and keeps paths outside cwd absolute", () => {
    const bad: string[] = [];
    const parse = createCodexJsonParser({ cwd: "/w", onMalformed: (l) => bad.push(l) });
    expect(parse("not json")).toEqual([]);
    expect(parse('{"type":"thread.started","thread_id":"--dangerously-bypass"}')).toEqual([]);
    const item = { id: "item_0", type: "file_change", changes: [{ path: "/etc/passwd", kind: "update" }] };
    const [ev] = parse(JSON.stringify({ type: "item.started", item }));
    expect(ev).toMatchObject({ tools: [{ name: "apply_patch", input: "update /etc/passwd" }] });
    expect(parse("[1]")).toEqual([]);
    expect(bad).toHaveLength(2);
  });

  it("counts mcp_tool_call and web_search items as tool turns and takes the usage of a later turn separately", () => {
    const parse = createCodexJsonParser();
    const meter = createRunMeter({}, {});
    const lines = [
      {
        type: "item.started",
        item: { id: "item_0", type: "mcp_tool_call", server: "gh", tool: "search", arguments: {} },
      },
      {
        type: "item.completed",
        item: { id: "item_0", type: "mcp_tool_call", server: "gh", tool: "search", status: "completed" },
      },
      { type: "item.completed", item: { id: "item_1", type: "web_search", query: "zod" } },
      { type: "item.completed", item: { id: "item_2", type: "todo_list", items: [] } },
    ];
    for (const e of lines.flatMap((l) => parse(JSON.stringify(l)))) meter.apply(e);
    expect(meter.turns).toBe(2);
  });
});
