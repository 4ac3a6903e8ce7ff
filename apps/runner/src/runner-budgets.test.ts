import type { Config } from "@forgehand/core";
import { createSpendLedger, type RunStore, spendScope } from "@forgehand/queue";
import type { Queue } from "bullmq";
import { beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/helpers/wait-for";
import { enqueueStage } from "./enqueue-stage";
import type { MemoryForge } from "./testing/memory-forge";
import { fixtureConfig } from "./testing/runner-fixture";
import { ref, useRunnerHarness } from "./testing/runner-harness";

/** A claude-stream-json agent spending $0.30 (60k Opus input tokens) per message, every 150 ms, forever. */
function spendingAgent(budgets: Config["budgets"]): Config {
  const config = fixtureConfig({});
  config.budgets = budgets;
  const agent = config.agents.fixture as Config["agents"][string];
  agent.parser = "claude-stream-json";
  const script = [
    "let n = 0;",
    "setInterval(() => console.log(JSON.stringify({ type: 'assistant', message: { id: 'm' + ++n,",
    "  model: 'claude-opus-4-5', content: [{ type: 'text', text: 'spending' }],",
    "  usage: { input_tokens: 60000, output_tokens: 0 } } })), 150);",
  ].join("\n");
  agent.command = [process.execPath, "-e", script];
  return config;
}

describe("runner (in process): budgets shared by every runner", () => {
  const h = useRunnerHarness();
  const { start, trigger, ended } = h;
  let store: RunStore;
  let queue: Queue;
  let forge: MemoryForge;
  beforeEach(() => {
    ({ store, queue, forge } = h.state());
    forge.addIssue({ number: 8, title: "Second issue", labels: [...(forge.issues.get(7)?.labels ?? [])] });
  });

  it("two runners cross a shared per-repository daily cap together: both stop as budget_limit, the next run does not start", async () => {
    const config = spendingAgent({ perRepoDailyUsd: 1 });
    // One run per runner: the two runs are on two runners, counting into one Redis total.
    await start(config, { id: "r1", concurrency: 1 }).start();
    await start(config, { id: "r2", concurrency: 1 }).start();
    const a = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("a") });
    const b = await enqueueStage(queue, store, { ref: { ...ref, number: 8 }, stage: "develop", trigger: trigger("b") });
    const [runA, runB] = await Promise.all([ended(a), ended(b)]);
    expect(new Set([runA.runner, runB.runner])).toEqual(new Set(["r1", "r2"]));
    for (const run of [runA, runB]) {
      expect(run.state).toBe("budget_limit");
      expect(run.reason).toMatch(
        /budget limit: github:acme\/app spent \$\d+\.\d\d today \(UTC\) of budgets\.perRepoDailyUsd \$1; resets at 00:00 UTC/,
      );
    }
    // Usually neither run alone reaches $1 (only the shared total does); on a loaded machine one runner may start
    // late and then be refused or stopped by the other's spend. Either way both counted into one total.
    expect(runA.costUsd + runB.costUsd).toBeGreaterThanOrEqual(1);
    const ledger = createSpendLedger(h.state().redis, h.state().prefix, {});
    const { repos } = await ledger.daily(1);
    const total = repos.find((r) => r.repo === spendScope(ref).repo)?.usd ?? 0;
    expect(total).toBeGreaterThanOrEqual(1);
    // Stopped promptly: at most a few $0.30 messages past the cap, summed over both runs.
    expect(total).toBeLessThan(2.2);
    expect(total).toBeCloseTo(runA.costUsd + runB.costUsd, 6);

    const c = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("c") });
    const runC = await ended(c);
    expect(runC).toMatchObject({ state: "budget_limit", turns: 0, costUsd: 0 });
    expect(runC.reason).toMatch(
      /^not started: budget limit: github:acme\/app spent .* budgets\.perRepoDailyUsd \$1; resets at 00:00 UTC \(in \d+/,
    );
    const comment = await waitFor("the refusal's status comment", () =>
      forge.issues
        .get(7)
        ?.comments.find((x) => x.body.includes(`forgehand:run=${c}`) && x.body.includes("spend cap reached")),
    );
    expect(comment.body).toContain("budgets.perRepoDailyUsd");
    expect(comment.body).toContain("resets at 00:00 UTC");
  }, 60_000);

  it("caps one issue across its runs without touching another issue of the same repository", async () => {
    const config = spendingAgent({ perIssueUsd: 0.5 });
    await start(config).start();
    const first = await ended(await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("i1") }));
    expect(first.state).toBe("budget_limit");
    expect(first.reason).toContain("runs on this issue spent");
    const again = await ended(await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("i2") }));
    expect(again.reason).toMatch(/^not started: budget limit: runs on this issue/);
    const other = await ended(
      await enqueueStage(queue, store, { ref: { ...ref, number: 8 }, stage: "develop", trigger: trigger("i3") }),
    );
    expect(other.state).toBe("budget_limit");
    expect(other.reason).not.toMatch(/^not started/);
  }, 60_000);
});
