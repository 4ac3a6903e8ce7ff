import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { supervise } from "./supervise";
import type { AgentEvent, SuperviseOptions } from "./types";

const dir = mkdtempSync(join(tmpdir(), "fh-sup-gemini-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/gemini/${name}`, import.meta.url));
const PRICES = { "gemini-2.5-pro": { input: 1.25, output: 10 } };

/** An "agent" that replays a recorded Gemini CLI stream and exits with the CLI's own exit code. */
function replay(name: string, exitCode: number, extra: Partial<SuperviseOptions> = {}): SuperviseOptions {
  const script = `process.stdout.write(require("fs").readFileSync(${JSON.stringify(fixture(name))}));process.exitCode=${exitCode}`;
  return {
    command: [process.execPath, "-e", script],
    cwd: dir,
    env: {},
    prompt: { via: "stdin", text: "task" },
    parser: "gemini-stream-json",
    limits: {},
    killGraceMs: 300,
    runId: "gemini-1",
    prices: PRICES,
    ...extra,
  };
}

describe("supervise with parser gemini-stream-json (recorded gemini-cli 0.61.0 streams)", () => {
  it("succeeds on a success result: turns, session id, cost priced from the result's tokens, final text", async () => {
    const events: AgentEvent[] = [];
    const outcome = await supervise(replay("write-file.jsonl", 0, { onEvent: (e) => events.push(e) }));
    expect(outcome).toMatchObject({ reason: "succeeded", turns: 1, resultText: "Wrote hello.txt for you." });
    expect(outcome.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(outcome.costUsd).toBeCloseTo((2000 * 1.25 + 100 * 10) / 1e6, 10);
    expect(events.some((e) => e.type === "usage" && e.model === "gemini-2.5-pro")).toBe(true);
  });

  it("fails on an error result even with exit 0, and carries the API error text for classification", async () => {
    const events: AgentEvent[] = [];
    const outcome = await supervise(replay("api-429-exhausted.jsonl", 0, { onEvent: (e) => events.push(e) }));
    expect(outcome.reason).toBe("failed");
    expect(outcome.detail).toMatch(/error result \(error_unknown\)/);
    expect(outcome.resultText).toMatch(/Resource has been exhausted/);
    expect(events).toContainEqual(expect.objectContaining({ type: "api_error", status: 429, transient: true }));
  });

  it("fails when exit 0 comes without a result line (a killed or truncated stream)", async () => {
    const outcome = await supervise(replay("tool-loop.jsonl", 0));
    expect(outcome).toMatchObject({ reason: "failed", turns: 3 });
    expect(outcome.detail).toMatch(/without a result event/);
  });

  it("stops at maxTurns counted from tool_use lines", async () => {
    const outcome = await supervise(replay("two-calls-one-turn.jsonl", 0, { limits: { maxTurns: 2 } }));
    expect(outcome.reason).toBe("turn_limit");
    expect(outcome.detail).toMatch(/tool call 3 exceeds maxTurns 2/);
  });
});
