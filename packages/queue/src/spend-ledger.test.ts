import { afterAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { createSpendLedger, spendDayKey } from "./spend-ledger";

const a = testRedis();
const b = testRedis();
afterAll(() => {
  a.disconnect();
  b.disconnect();
});

const NOON = Date.UTC(2026, 11, 2, 12, 0);
const scope = { issue: "github:acme/app#1", repo: "github:acme/app" };

describe("createSpendLedger (real redis-server)", () => {
  it("adds atomically from two connections: 200 concurrent increments lose nothing", async () => {
    const prefix = uniquePrefix("spend");
    const one = createSpendLedger(a, prefix, {});
    const two = createSpendLedger(b, prefix, {});
    await Promise.all(
      Array.from({ length: 100 }, () => [one.add(scope, 0.01, NOON), two.add(scope, 0.01, NOON)]).flat(),
    );
    const { totals } = await one.add(scope, 0, NOON);
    expect(totals.issueUsd).toBeCloseTo(2, 9);
    expect(totals.repoDayUsd).toBeCloseTo(2, 9);
    expect(totals.installationDayUsd).toBeCloseTo(2, 9);
  });

  it("reports the cap a run crosses, and refuses to start one once a cap is reached, with when it resets", async () => {
    const prefix = uniquePrefix("spend");
    const ledger = createSpendLedger(a, prefix, { perRepoDailyUsd: 1, installationDailyUsd: 5, perIssueUsd: 3 });
    expect(await ledger.check(scope, NOON)).toBeUndefined();
    expect((await ledger.add(scope, 0.6, NOON)).reached).toBeUndefined();
    const crossed = await ledger.add(scope, 0.5, NOON);
    expect(crossed.reached).toEqual({
      cap: "perRepoDailyUsd",
      limitUsd: 1,
      spentUsd: 1.1,
      resetsAt: Date.UTC(2026, 11, 3),
    });
    expect(await ledger.check(scope, NOON)).toMatchObject({ cap: "perRepoDailyUsd", resetsAt: Date.UTC(2026, 11, 3) });
    // Another repository of the same installation is still under its own cap; the next UTC day starts at $0.
    expect(await ledger.check({ issue: "github:acme/web#2", repo: "github:acme/web" }, NOON)).toBeUndefined();
    expect(await ledger.check(scope, Date.UTC(2026, 11, 3, 0, 0, 1))).toBeUndefined();
  });

  it("caps an issue across days (no reset), and the installation across repositories", async () => {
    const prefix = uniquePrefix("spend");
    const ledger = createSpendLedger(a, prefix, { perIssueUsd: 2, installationDailyUsd: 2.4 });
    await ledger.add(scope, 1.5, NOON);
    await ledger.add(scope, 0.6, NOON + 86_400_000);
    expect(await ledger.check(scope, NOON + 86_400_000)).toEqual({ cap: "perIssueUsd", limitUsd: 2, spentUsd: 2.1 });
    const other = { issue: "github:acme/web#9", repo: "github:acme/web" };
    const { reached } = await ledger.add(other, 1.9, NOON + 86_400_000);
    expect(reached).toMatchObject({ cap: "installationDailyUsd", limitUsd: 2.4 });
    expect(reached?.spentUsd).toBeCloseTo(2.5, 9);
  });

  it("keeps day keys under the prefix with a TTL past the day, and lists spend per repository and day", async () => {
    const prefix = uniquePrefix("spend");
    const ledger = createSpendLedger(a, prefix, {});
    const now = Date.now();
    await ledger.add(scope, 0.25, now);
    await ledger.add({ issue: "gitea:o/r#3", repo: "gitea:o/r" }, 0.5, now);
    const ttl = await a.ttl(spendDayKey(prefix, new Date(now).toISOString().slice(0, 10)));
    expect(ttl).toBeGreaterThan(2 * 86_400 - 5);
    expect(ttl).toBeLessThanOrEqual(3 * 86_400);
    const { repos, totals } = await ledger.daily(2, now);
    expect(repos.map((r) => [r.repo, r.usd])).toEqual([
      ["gitea:o/r", 0.5],
      ["github:acme/app", 0.25],
    ]);
    expect(totals[0]!.usd).toBeCloseTo(0.75, 9);
    await expect(ledger.add(scope, Number.NaN, now)).rejects.toThrow(/finite USD delta/);
  });
});
