import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFAULT_PRICES } from "./estimate-cost-usd";
import { geminiApiError } from "./gemini-api-error";
import { createGeminiStreamJsonParser } from "./gemini-stream-json-parser";
import { createRunMeter } from "./run-meter";
import type { AgentEvent } from "./types";

/** Real gemini-cli 0.61.0 output recorded against test/support/gemini-server (see fixtures/gemini/README.md). */
function recording(name: string): string[] {
  const path = fileURLToPath(new URL(`../fixtures/gemini/${name}`, import.meta.url));
  return readFileSync(path, "utf8").split("\n").filter(Boolean);
}

const CWD = "/tmp/forgehand-fixture/repo";
const PRICES = { ...DEFAULT_PRICES, "gemini-2.5-pro": { input: 1.25, output: 10, cacheRead: 0.125 } };

function parseAll(lines: string[], cwd: string | undefined = CWD) {
  const malformed: string[] = [];
  const parse = createGeminiStreamJsonParser({ cwd, onMalformed: (line) => malformed.push(line) });
  const events = lines.flatMap(parse);
  const meter = createRunMeter({}, PRICES);
  for (const event of events) meter.apply(event);
  return { events, malformed, meter };
}

const ofType = <T extends AgentEvent["type"]>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);
/** The CLI's own token counts (the `result`), without the parser's live estimates. */
const realUsage = (events: AgentEvent[]) => ofType(events, "usage").filter((u) => !u.estimated);

describe("createGeminiStreamJsonParser on recorded gemini-cli 0.61.0 streams", () => {
  it("write-file: session, one tool turn with a worktree-relative path, usage with model, final message", () => {
    const { events, malformed, meter } = parseAll(recording("write-file.jsonl"));
    expect(malformed).toEqual([]);
    expect(events[0]).toEqual({
      type: "session",
      sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      model: "gemini-2.5-pro",
    });
    expect(ofType(events, "assistant")).toEqual([
      expect.objectContaining({
        usesTool: true,
        model: "gemini-2.5-pro",
        tools: [{ name: "write_file", input: "hello.txt" }],
      }),
    ]);
    expect(ofType(events, "tool_result")).toEqual([expect.objectContaining({ isError: false })]);
    expect(realUsage(events)).toEqual([
      expect.objectContaining({ model: "gemini-2.5-pro", inputTokens: 2000, outputTokens: 100, cacheReadTokens: 0 }),
    ]);
    // The two SSE chunks arrive as two `delta` messages; the final message is their concatenation.
    const result = ofType(events, "result")[0]!;
    expect(result).toMatchObject({ isError: false, subtype: "success", text: "Wrote hello.txt for you." });
    expect(result.sessionId).toBe((events[0] as { sessionId: string }).sessionId);
    expect(meter.turns).toBe(1);
    expect(meter.costUsd).toBeCloseTo((2000 * 1.25 + 100 * 10) / 1e6, 10);
  });

  it("two-calls-one-turn: every tool call is a turn (3), shell commands and a relative path as actions, cached input split out", () => {
    const { events, meter } = parseAll(recording("two-calls-one-turn.jsonl"));
    expect(ofType(events, "assistant").map((e) => e.tools[0])).toEqual([
      { name: "run_shell_command", input: "echo one" },
      { name: "run_shell_command", input: "echo two" },
      { name: "read_file", input: "README.md" },
    ]);
    expect(meter.turns).toBe(3);
    // input_tokens 90000 includes cached 20000: 70000 uncached input, 20000 cache reads.
    expect(realUsage(events)[0]).toMatchObject({
      inputTokens: 70_000,
      cacheReadTokens: 20_000,
      outputTokens: 50,
    });
    expect(meter.costUsd).toBeCloseTo((70_000 * 1.25 + 20_000 * 0.125 + 50 * 10) / 1e6, 10);
    expect(ofType(events, "result")[0]?.text).toBe("All done.");
  });

  it("tool-loop (killed): turns counted live, no usage, no result", () => {
    const { events, meter } = parseAll(recording("tool-loop.jsonl"));
    expect(meter.turns).toBeGreaterThanOrEqual(3);
    expect(ofType(events, "assistant").every((e) => e.tools[0]?.input.startsWith("echo hi-"))).toBe(true);
    expect(ofType(events, "result")).toEqual([]);
    expect(meter.result).toBeUndefined();
  });

  it("loop-detected: the CLI's own loop warning is not an API error; the run still ends with a success result", () => {
    const { events } = parseAll(recording("loop-detected.jsonl"));
    expect(ofType(events, "api_error")).toEqual([]);
    expect(ofType(events, "result")[0]).toMatchObject({ isError: false });
  });

  it.each([
    ["api-429-exhausted.jsonl", 429, 1000],
    ["api-503.jsonl", 503, undefined],
  ])("%s: a transient api_error (status %s, retryAfterMs %s) before the error result", (file, status, retryAfterMs) => {
    const { events } = parseAll(recording(file));
    const [apiError] = ofType(events, "api_error");
    expect(apiError).toMatchObject({ transient: true, status, message: expect.stringContaining("[API Error") });
    expect(apiError?.retryAfterMs).toBe(retryAfterMs);
    expect(ofType(events, "result")[0]).toMatchObject({ isError: true, subtype: "error_unknown" });
    expect(realUsage(events)).toEqual([]); // all-zero stats are not a usage event
  });

  it("api-400: an api_error that is not transient", () => {
    const { events } = parseAll(recording("api-400.jsonl"));
    expect(ofType(events, "api_error")[0]).toMatchObject({ transient: false, status: 400 });
    expect(ofType(events, "result")[0]?.isError).toBe(true);
  });

  it("api-429-then-ok: the CLI's own retry leaves no trace in the stream; success", () => {
    const { events } = parseAll(recording("api-429-then-ok.jsonl"));
    expect(ofType(events, "api_error")).toEqual([]);
    expect(ofType(events, "result")[0]).toMatchObject({ isError: false, text: "done after 429" });
  });
});

describe("createGeminiStreamJsonParser on hostile and odd lines", () => {
  const line = (o: unknown) => JSON.stringify(o);

  it("reports non-JSON and type-less lines as malformed and goes on", () => {
    const { events, malformed } = parseAll(["not json", line({ no: "type" }), line([1]), ""]);
    expect(events).toEqual([]);
    expect(malformed).toHaveLength(3);
  });

  it("drops a session id shaped like a flag (it would become argv of /retry)", () => {
    const { events } = parseAll([line({ type: "init", session_id: "--dangerously-skip-permissions", model: "m" })]);
    expect(ofType(events, "session")).toEqual([]);
  });

  it("counts a repeated tool_id once, keeps paths outside the worktree absolute, cuts long inputs", () => {
    const use = (id: string, parameters: unknown) =>
      line({ type: "tool_use", tool_name: "x", tool_id: id, parameters });
    const { events, meter } = parseAll([
      use("a", { file_path: "/etc/passwd" }),
      use("a", { file_path: "/etc/passwd" }),
      use("b", { file_path: `${CWD}/../repo-other/x` }),
      use("c", { command: "y".repeat(10_000) }),
      use("d", { dir_path: CWD }),
    ]);
    expect(meter.turns).toBe(4);
    const inputs = ofType(events, "assistant").map((e) => e.tools[0]!.input);
    expect(inputs[0]).toBe("/etc/passwd");
    expect(inputs[1]).toBe(`${CWD}/../repo-other/x`); // outside the worktree: as given
    expect(inputs[2]!.length).toBeLessThanOrEqual(200);
    expect(inputs[3]).toBe(".");
  });

  it("keeps the final message bounded and only the text after the last tool call", () => {
    const msg = (content: string) => line({ type: "message", role: "assistant", content, delta: true });
    const { events } = parseAll([
      msg("narration"),
      line({ type: "tool_use", tool_name: "x", tool_id: "t1", parameters: {} }),
      ...Array.from({ length: 100 }, () => msg("z".repeat(1000))),
      line({ type: "result", status: "success", stats: {} }),
    ]);
    const text = ofType(events, "result")[0]!.text!;
    expect(text.startsWith("zzz")).toBe(true);
    expect(text.length).toBe(64 * 1024);
  });

  it("a repeated result line does not count its tokens twice", () => {
    const stats = { input_tokens: 1_000_000, output_tokens: 0, cached: 0, input: 1_000_000, models: {} };
    const { meter } = parseAll(
      [line({ type: "init", session_id: "sess-00001", model: "gemini-2.5-pro" })].concat(
        [1, 2].map(() => line({ type: "result", status: "success", stats })),
      ),
    );
    expect(meter.costUsd).toBeCloseTo(1.25, 10);
  });

  it("ignores negative and non-numeric token counts", () => {
    const stats = {
      models: { "gemini-2.5-pro": { input: -5, output_tokens: "9", cached: Number.NaN, input_tokens: 7 } },
    };
    const { events } = parseAll([line({ type: "result", status: "success", stats })]);
    expect(realUsage(events)).toEqual([]);
  });
});

describe("geminiApiError", () => {
  it("classifies status names, phrases and codes; leaves non-API warnings alone", () => {
    expect(geminiApiError("[API Error: got status: 502 Bad Gateway]")).toMatchObject({ status: 502, transient: true });
    expect(geminiApiError("[API Error: UNAVAILABLE]")).toMatchObject({ status: 503, transient: true });
    expect(geminiApiError("Please retry in 2.5s, RESOURCE_EXHAUSTED")).toMatchObject({
      status: 429,
      retryAfterMs: 2500,
    });
    expect(geminiApiError("Loop detected, stopping execution")).toBeUndefined();
    expect(geminiApiError("Reached max session turns (500 turns)")).toBeUndefined();
    expect(geminiApiError("[API Error: permission denied]")).toMatchObject({ transient: false });
  });
});

describe("createGeminiStreamJsonParser live cost estimate", () => {
  const line = (o: unknown) => JSON.stringify(o);

  it("two-calls-one-turn: live estimates while tools run, the result's real tokens replacing them", () => {
    const lines = recording("two-calls-one-turn.jsonl");
    const parse = createGeminiStreamJsonParser({ cwd: CWD });
    const meter = createRunMeter({}, PRICES);
    for (const line of lines.slice(0, -1)) for (const e of parse(line)) meter.apply(e);
    expect(meter.costUsd).toBeGreaterThan(0);
    expect(meter.costEstimated).toBe(true);
    for (const e of parse(lines.at(-1) as string)) meter.apply(e);
    expect(meter.costEstimated).toBe(false);
    const only = createRunMeter({}, PRICES);
    for (const e of realUsage(lines.flatMap(createGeminiStreamJsonParser({ cwd: CWD })))) only.apply(e);
    expect(meter.costUsd).toBeCloseTo(only.costUsd, 10);
  });

  it("maxBudgetUsd stops a run on the live estimate before the result", () => {
    const meter = createRunMeter({ maxBudgetUsd: 0.3 }, PRICES);
    const parse = createGeminiStreamJsonParser({ cwd: CWD });
    const lines = [line({ type: "init", session_id: "45471512-aea6-4cdd-b405-735209fb2058", model: "gemini-2.5-pro" })];
    for (let i = 0; i < 10; i++) {
      lines.push(line({ type: "tool_use", tool_name: "read_file", tool_id: `t${i}`, parameters: { file_path: "a" } }));
      lines.push(line({ type: "tool_result", tool_id: `t${i}`, status: "success", output: "y".repeat(400_000) }));
    }
    let stoppedAt = -1;
    lines.forEach((l, i) => {
      for (const e of parse(l)) if (stoppedAt < 0 && meter.apply(e).limit?.reason === "budget_limit") stoppedAt = i;
    });
    // $1.25 per million input tokens: each 400 KB result is ~100k tokens (~$0.125) in the next request.
    expect(stoppedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeLessThan(lines.length / 2);
  });
});
