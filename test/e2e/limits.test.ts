import type { RunRecord } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { byPromptScript, loopToolsScript, silentScript } from "../support/model-server";
import { plainText } from "./harness/plain-text";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Scenario 4 (issue 7): maxTurns, maxBudgetUsd, stall (the model goes silent) and timeout each end the run
// with its own state and leave no process behind. Four stages, four issues, one forgehand, run side by side.
let world: E2eWorld | undefined;
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

describe("e2e: watchdog limits", () => {
  it("ends runs as turn_limit, budget_limit, stalled and timed_out with no survivors", {
    timeout: 240_000,
  }, async () => {
    world = await startE2eWorld({
      script: byPromptScript({
        "MODE-TURNS": loopToolsScript(),
        // ≈ $1 per turn, priced from each assistant line's input tokens (see model-server/NOTES.md).
        "MODE-BUDGET": loopToolsScript({ usage: { input_tokens: 200_000, output_tokens: 10 } }),
        "MODE-STALL": silentScript(),
        "MODE-TIMEOUT": loopToolsScript({ tool: "Read" }),
      }),
      stages: [
        stage("turns", { maxTurns: 3 }),
        stage("budget", { maxBudgetUsd: 1.5 }),
        stage("stall", { stall: "4s" }),
        stage("timeout", { timeout: "8s" }),
      ],
      config: { runner: { concurrency: 4 } },
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2e4"),
    });
    const w = world;
    const expected = { turns: "turn_limit", budget: "budget_limit", stall: "stalled", timeout: "timed_out" } as const;
    const issues = new Map<string, number>();
    for (const name of Object.keys(expected)) {
      const issue = w.openIssue(`Limit ${name}`);
      issues.set(name, issue);
      await w.addLabel(issue, `agent:${name}`);
    }
    const ended = await waitFor(
      "all four runs to end",
      async () => {
        const runs = await w.runs();
        const done = runs.filter((r) => !["queued", "running"].includes(r.state));
        return done.length >= 4 ? done : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    const byIssue = new Map<number, RunRecord>(ended.map((r: RunRecord) => [r.issue, r]));
    for (const [name, state] of Object.entries(expected)) {
      const run = byIssue.get(issues.get(name)!);
      expect(run?.state, `${name}: ${JSON.stringify(run)}`).toBe(state);
    }
    expect(byIssue.get(issues.get("turns")!)!.turns).toBeLessThanOrEqual(4);
    expect(byIssue.get(issues.get("budget")!)!.costUsd).toBeGreaterThanOrEqual(1.5);
    // Each status comment ends with the limit that stopped it; a limit is a failure of the stage.
    const words = { turns: /turn limit/i, budget: /budget limit/i, stall: /stalled/i, timeout: /timed out/i };
    for (const [name, pattern] of Object.entries(words)) {
      const issue = issues.get(name)!;
      await waitFor(`${name}: final status comment`, () =>
        w.statusComments(issue).some((b) => pattern.test(plainText(b))),
      );
    }
    expect(w.survivors()).toEqual([]);
  });
});
