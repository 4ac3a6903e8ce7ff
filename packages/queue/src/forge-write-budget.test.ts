import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { createRedisWriteBudget } from "./forge-write-budget";

class Declined extends Error {
  constructor(readonly waitMs: number) {
    super(`declined ${waitMs}`);
  }
}

// Two connections stand for two runner processes: the budget lives in Redis, not in either of them.
let a: Redis;
let b: Redis;
beforeAll(() => {
  a = testRedis();
  b = testRedis();
});
afterAll(() => {
  a.disconnect();
  b.disconnect();
});

const budgets = (prefix: string, limits = {}) =>
  [a, b].map((r) =>
    createRedisWriteBudget(r, prefix, {
      limits: { spacingMs: 200, ...limits },
      onDeclined: (_s, w) => new Declined(w),
    }),
  );

describe("forge write budget (Redis)", () => {
  it("two processes writing with one installation are spaced as one: serial, spacingMs apart", async () => {
    const [x, y] = budgets(uniquePrefix("wb"));
    const t0 = Date.now();
    const done: number[] = [];
    await Promise.all(
      [x, y, x, y, x, y].map((budget) =>
        budget?.take("inst:1", { creates: false, priority: "normal" }).then(() => done.push(Date.now() - t0)),
      ),
    );
    done.sort((p, q) => p - q);
    // Six writes at 200 ms spacing: the last goes no sooner than 1 s after the first.
    expect((done.at(-1) ?? 0) - (done[0] ?? 0)).toBeGreaterThanOrEqual(950);
    for (let i = 1; i < done.length; i++) expect((done[i] ?? 0) - (done[i - 1] ?? 0)).toBeGreaterThanOrEqual(150);
  });

  it("installations do not wait on each other", async () => {
    const [x, y] = budgets(uniquePrefix("wb"));
    const t0 = Date.now();
    await Promise.all([
      ...[1, 2, 3].map(() => x?.take("inst:1", { creates: false, priority: "normal" })),
      ...[1, 2, 3].map(() => y?.take("inst:2", { creates: false, priority: "normal" })),
    ]);
    // Three per scope: ~400 ms, not the ~1000 ms six writes on one scope would take.
    expect(Date.now() - t0).toBeLessThan(800);
  });

  it("a low-priority write is declined when writes are queued, an urgent one waits its turn", async () => {
    const [x, y] = budgets(uniquePrefix("wb"), { spacingMs: 500, lowMaxWaitMs: 300 });
    await x?.take("inst:1", { creates: false, priority: "normal" });
    await y?.take("inst:1", { creates: false, priority: "normal" }); // now ~500 ms queued ahead
    const declined = await x?.take("inst:1", { creates: false, priority: "low" }).catch((e: unknown) => e);
    expect(declined).toBeInstanceOf(Declined);
    expect((declined as Declined).waitMs).toBeGreaterThan(300);
    const t0 = Date.now();
    await y?.take("inst:1", { creates: false, priority: "urgent" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
  });

  it("content-creating writes are capped per rolling minute across processes", async () => {
    const [x, y] = budgets(uniquePrefix("wb"), { spacingMs: 0, createsPerMinute: 3 });
    for (const budget of [x, y, x]) await budget?.take("inst:1", { creates: true, priority: "normal" });
    // Edits are not creations: they still go at once.
    const t0 = Date.now();
    await y?.take("inst:1", { creates: false, priority: "normal" });
    expect(Date.now() - t0).toBeLessThan(200);
    // The fourth creation would wait for the first to leave the minute (~60 s): a low one is declined saying so.
    const declined = (await y?.take("inst:1", { creates: true, priority: "low" }).catch((e: unknown) => e)) as Declined;
    expect(declined).toBeInstanceOf(Declined);
    expect(declined.waitMs).toBeGreaterThan(55_000);
    expect(declined.waitMs).toBeLessThanOrEqual(60_000);
  });

  it("a rate-limit pause told by one process holds every process's writes", async () => {
    const [x, y] = budgets(uniquePrefix("wb"));
    await x?.pause("inst:1", 700);
    const t0 = Date.now();
    await y?.take("inst:1", { creates: false, priority: "normal" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
  });
});
