import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunRecord } from "@forgehand/core";
import { type AgentEvent, supervise } from "@forgehand/supervisor";
import { afterEach, describe, expect, it } from "vitest";
import { waitingText } from "../../apps/runner/src/waiting-text";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import {
  GEMINI_ARGS,
  GEMINI_BIN,
  type GeminiScript,
  type GeminiTurn,
  geminiByPromptScript,
  geminiEnv,
  geminiLoopToolsScript,
  geminiSequenceScript,
  geminiSilentScript,
  startGeminiServer,
  writeGeminiSettings,
} from "../support/gemini-server";
import { plainText } from "./harness/plain-text";
import { waitFor } from "./harness/start-e2e-world";
import { type GeminiWorld, startGeminiWorld } from "./harness/start-gemini-world";

// Issue 15 with the real Gemini CLI: maxTurns counts its tool calls (tool_use events) and ends the run as
// turn_limit; a model that goes silent ends it as stalled. Both side by side, no process left behind.
let world: GeminiWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

const stage = (name: string, limits: Record<string, unknown>) => ({
  name,
  label: `agent:${name}`,
  prompt: `inline:MODE-${name.toUpperCase()} issue #{{issue.number}}`,
  limits: { timeout: "2m", stall: "60s", ...limits },
});

describe("e2e (gemini): watchdog limits", () => {
  it("ends runs as turn_limit and stalled with no survivors", { timeout: 200_000 }, async () => {
    world = await startGeminiWorld({
      gemini: geminiByPromptScript({ "MODE-TURNS": geminiLoopToolsScript(), "MODE-STALL": geminiSilentScript() }),
      stages: [stage("turns", { maxTurns: 3 }), stage("stall", { stall: "5s" })],
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2eg4"),
    });
    const w = world;
    const expected = { turns: "turn_limit", stall: "stalled" } as const;
    const issues = new Map<string, number>();
    for (const name of Object.keys(expected)) {
      const issue = w.openIssue(`Limit ${name}`);
      issues.set(name, issue);
      await w.addLabel(issue, `agent:${name}`);
    }
    const ended = await waitFor(
      "both runs to end",
      async () => {
        const done = (await w.runs()).filter((r) => !["queued", "running"].includes(r.state));
        return done.length >= 2 ? done : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    const byIssue = new Map<number, RunRecord>(ended.map((r: RunRecord) => [r.issue, r]));
    for (const [name, state] of Object.entries(expected)) {
      const run = byIssue.get(issues.get(name)!);
      expect(run?.state, `${name}: ${JSON.stringify(run)}`).toBe(state);
    }
    // The 4th tool_use crosses maxTurns 3 and starts the kill; echo calls are fast, so the CLI may print a few
    // more before SIGTERM lands (each still counted), but the run ends on the 4th.
    const turnsRun = byIssue.get(issues.get("turns")!)!;
    expect(turnsRun.reason).toMatch(/tool call 4 exceeds maxTurns 3/);
    expect(turnsRun.turns).toBeGreaterThanOrEqual(4);
    const words = { turns: /turn limit/i, stall: /stalled/i };
    for (const [name, pattern] of Object.entries(words)) {
      const issue = issues.get(name)!;
      await waitFor(`${name}: final status comment`, () =>
        w.statusComments(issue).some((b) => pattern.test(plainText(b))),
      );
    }
    // The turns run's status comment lists its shell commands as actions.
    expect(w.statusComments(issues.get("turns")!).some((b) => /run_shell_command echo hi-\d/.test(b))).toBe(true);
    expect(w.survivors()).toEqual([]);
  });
});

describe("e2e (gemini): maxBudgetUsd mid-run", () => {
  it("stops a Gemini run on the live cost estimate while it keeps calling tools", { timeout: 200_000 }, async () => {
    // A shell call per request whose ~390 KB output goes back to the model; the scripted API's usage comes only in
    // the final `result`, which this run never reaches: only the live estimate can cross the budget.
    const spend: GeminiScript = () => ({
      functionCalls: [{ name: "run_shell_command", args: { command: "seq 100000 165000", description: "Count" } }],
    });
    world = await startGeminiWorld({
      gemini: geminiByPromptScript({ "MODE-SPEND": spend }),
      stages: [stage("spend", { maxBudgetUsd: 0.3 })],
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2eg5"),
    });
    const w = world;
    const issue = w.openIssue("Gemini spend");
    await w.addLabel(issue, "agent:spend");
    const run = await waitFor(
      "spend to end",
      async () => (await w.runs()).find((r) => !["queued", "running"].includes(r.state)),
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    expect(run.state, JSON.stringify(run)).toBe("budget_limit");
    // ~97k tokens per call at gemini-2.5-pro's $1.25 per million input: a few calls, not a runaway. The record's
    // costUsd may then be the CLI's own figure (killed, it still prints its `result` with the scripted API's small
    // usage), which replaces the estimate.
    const estimated = /estimated cost \(live[^$]*\$(\d+\.\d+) exceeds maxBudgetUsd \$0\.3/.exec(run.reason ?? "");
    expect(Number(estimated?.[1])).toBeGreaterThan(0.3);
    expect(run.turns).toBeLessThan(8);
    await waitFor("the comment to say budget limit", () =>
      w.statusComments(issue).some((b) => /budget limit/i.test(plainText(b))),
    );
    expect(w.survivors()).toEqual([]);
  });
});

describe("e2e (gemini): the CLI's own retry of a 429 with Retry-After", () => {
  it("is an api_retry from stderr (the stream has none): shown as waiting, and no stall while it waits", {
    timeout: 120_000,
  }, async () => {
    // Retry-After 12 s against a stall limit of 8 s: without the announced wait the watchdog would end the run.
    const turns: GeminiTurn[] = [
      { status: 429, retryAfter: 12, message: "Resource has been exhausted (e.g. check quota)." },
      { text: "ok after retry" },
    ];
    const server = await startGeminiServer({ script: geminiSequenceScript(turns) });
    try {
      const home = mkdtempSync(join(tmpdir(), "fh-gemini-home-"));
      writeGeminiSettings(home, 3);
      const seen: AgentEvent[] = [];
      const outcome = await supervise({
        command: [GEMINI_BIN, ...GEMINI_ARGS],
        cwd: mkdtempSync(join(tmpdir(), "fh-gemini-cwd-")),
        env: geminiEnv(server.url, home),
        prompt: { via: "stdin", text: "say ok" },
        parser: "gemini-stream-json",
        limits: { stallMs: 8000, timeoutMs: 90_000 },
        killGraceMs: 1000,
        runId: "gemini-retry-1",
        prices: { "gemini-2.5-pro": { input: 1.25, output: 10 } },
        onEvent: (event) => seen.push(event),
      });
      expect(outcome.reason, JSON.stringify(outcome)).toBe("succeeded");
      const retry = seen.find((e) => e.type === "api_retry");
      expect(retry).toMatchObject({ type: "api_retry", attempt: 1, status: 429 });
      // The CLI's own delay: at least the server's Retry-After.
      expect(retry?.type === "api_retry" ? retry.delayMs : 0).toBeGreaterThanOrEqual(12_000);
      expect(waitingText(retry!, Date.now())).toMatch(/^API retry 1 after HTTP 429, next try in \d+ s$/);
      expect(outcome.resultText).toBe("ok after retry");
    } finally {
      await server.close();
    }
  });
});
