import type { RunRecord } from "@forgehand/core";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { createRunStore } from "./run-store";

function rec(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    forge: "github",
    repo: "o/r",
    issue: 7,
    isPr: false,
    stage: "develop",
    state: "queued",
    createdAt: Date.now(),
    turns: 0,
    costUsd: 0,
    attempts: 0,
    lastActions: [],
    ...over,
  };
}

describe("run store", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());

  it("creates once, reads back, lists newest first, finds the latest run of an issue", async () => {
    const store = createRunStore(redis, uniquePrefix("runs"));
    expect((await store.create(rec("a", { createdAt: 1000 }))).created).toBe(true);
    expect((await store.create(rec("b", { createdAt: 2000, issue: 8 }))).created).toBe(true);
    const again = await store.create(rec("a", { createdAt: 1000, stage: "other" }));
    expect(again.created).toBe(false);
    expect(again.record.stage).toBe("develop");
    expect((await store.get("a"))?.lastActions).toEqual([]);
    expect((await store.list()).map((r) => r.id)).toEqual(["b", "a"]);
    expect((await store.list({ limit: 1 })).map((r) => r.id)).toEqual(["b"]);
    expect((await store.latestForIssue("github:o/r#7"))?.id).toBe("a");
    expect((await store.latestForIssue("github:o/r#8"))?.id).toBe("b");
    expect(await store.latestForIssue("github:o/r#9")).toBeNull();
    expect(await store.get("missing")).toBeNull();
  });

  it("merges patches and never moves a terminal run to another state", async () => {
    const store = createRunStore(redis, uniquePrefix("runs"));
    await store.create(rec("r1"));
    const running = await store.update("r1", { state: "running", startedAt: 5, turns: 3, lastActions: ["Edit a.ts"] });
    expect(running.applied).toBe(true);
    expect(running.record).toMatchObject({ state: "running", startedAt: 5, turns: 3, lastActions: ["Edit a.ts"] });
    expect((await store.update("r1", { state: "succeeded", endedAt: 9 })).applied).toBe(true);
    const back = await store.update("r1", { state: "running", turns: 99 });
    expect(back.applied).toBe(false);
    expect(back.record).toMatchObject({ state: "succeeded", turns: 3 });
    expect((await store.update("r1", { state: "failed" })).applied).toBe(false);
    // Fields without a state may still land on a terminal run (e.g. the status comment id).
    expect((await store.update("r1", { statusCommentId: 42 })).record?.statusCommentId).toBe(42);
    expect((await store.update("nope", { turns: 1 })).applied).toBe(false);
    await expect(store.update("r1", { state: "open" as never })).rejects.toThrow(/\[runs\].*`open`/);
  });

  it("keeps concurrent patches from different writers", async () => {
    const store = createRunStore(redis, uniquePrefix("runs"));
    await store.create(rec("c"));
    await Promise.all([
      store.update("c", { turns: 4 }),
      store.update("c", { costUsd: 0.5 }),
      store.update("c", { sessionId: "s" }),
    ]);
    expect(await store.get("c")).toMatchObject({ turns: 4, costUsd: 0.5, sessionId: "s" });
  });

  it("appends, reads after an id, tails live lines, and caps the log", async () => {
    const store = createRunStore(redis, uniquePrefix("runs"));
    const first = await store.appendLog("l", "stdout", "one");
    await store.appendLog("l", "stderr", "two");
    const all = await store.readLog("l");
    expect(all.map((e) => [e.stream, e.line])).toEqual([
      ["stdout", "one"],
      ["stderr", "two"],
    ]);
    expect((await store.readLog("l", { after: first })).map((e) => e.line)).toEqual(["two"]);
    const last = all.at(-1)?.id as string;
    const tail = store.tailLog("l", last, 5_000);
    setTimeout(() => void store.appendLog("l", "system", "three"), 100);
    expect((await tail).map((e) => e.line)).toEqual(["three"]);
    expect(await store.tailLog("l", (await store.readLog("l")).at(-1)?.id as string, 100)).toEqual([]);
  });
});
