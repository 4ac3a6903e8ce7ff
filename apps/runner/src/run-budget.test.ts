import { silentLogger } from "@forgehand/core";
import { createSpendLedger, spendScope } from "@forgehand/queue";
import { afterAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { createRunBudget, describeCap } from "./run-budget";
import { ref } from "./testing/runner-harness";

const redis = testRedis();
afterAll(() => redis.disconnect());
const scope = spendScope(ref);

describe("createRunBudget (real redis-server)", () => {
  it("adds only the increase of live cost, corrects to the CLI's final figure, and aborts once a cap is crossed", async () => {
    const prefix = uniquePrefix("budget");
    const ledger = createSpendLedger(redis, prefix, { perIssueUsd: 1 });
    const budget = createRunBudget(ledger, scope, silentLogger);
    for (const cost of [0.2, 0.2, 0.5, 0.4, 0.9]) budget.track(cost);
    await budget.finish(0.8);
    expect((await ledger.add(scope, 0)).totals.issueUsd).toBeCloseTo(0.8, 9);
    expect(budget.signal.aborted).toBe(false);

    const next = createRunBudget(ledger, scope, silentLogger);
    next.track(0.3);
    await next.finish(0.3);
    expect(next.signal.aborted).toBe(true);
    expect(String(next.signal.reason)).toMatch(
      /^budget limit: runs on this issue spent \$1\.10 of budgets\.perIssueUsd \$1/,
    );
    expect(await createRunBudget(ledger, scope, silentLogger).refusal()).toMatch(/^not started: budget limit/);
  });

  it("words each cap with when it resets", () => {
    const now = Date.UTC(2026, 11, 2, 21, 30);
    const resetsAt = Date.UTC(2026, 11, 3);
    expect(describeCap({ cap: "perRepoDailyUsd", limitUsd: 20, spentUsd: 20.5, resetsAt }, scope, now)).toBe(
      "budget limit: github:acme/app spent $20.50 today (UTC) of budgets.perRepoDailyUsd $20; resets at 00:00 UTC (in 2 h 30 min)",
    );
    expect(describeCap({ cap: "installationDailyUsd", limitUsd: 100, spentUsd: 100, resetsAt }, scope, now)).toContain(
      "all repositories spent $100.00 today (UTC) of budgets.installationDailyUsd $100",
    );
  });
});
