import { createLogger } from "@forgehand/core";
import { createRedis, type StopRequest } from "@forgehand/queue";
import { describe, expect, it } from "vitest";
import { testRedisUrl } from "../../../test/helpers/redis";
import { createStopWatcher, isSelfInflicted, stopApplies } from "./stop-watcher";

const run = {
  runId: "r1",
  issue: "github:acme/app#7",
  stage: "develop",
  requestedAt: 1_000,
  botLogin: "Forgehand[bot]",
};
const stop = (over: Partial<StopRequest>): StopRequest => ({
  issue: run.issue,
  by: "alice",
  reason: "label_removed",
  at: 2_000,
  ...over,
});

describe("stopApplies", () => {
  it("applies a stage-scoped stop (a removed stage label) only to runs of that stage", () => {
    expect(stopApplies(stop({ stage: "develop" }), run)).toBe(true);
    expect(stopApplies(stop({ stage: "review" }), run)).toBe(false);
    // Naming the run wins over the stage.
    expect(stopApplies(stop({ stage: "review", runId: "r1" }), run)).toBe(true);
  });

  it("applies people's issue-wide stops at or after the trigger, and any stop naming the run", () => {
    expect(stopApplies(stop({}), run)).toBe(true);
    expect(stopApplies(stop({ at: 999 }), run)).toBe(false);
    expect(stopApplies(stop({ issue: undefined, runId: "r1", by: "operator", reason: "operator", at: 0 }), run)).toBe(
      true,
    );
  });

  it("drops the echo of the bot's own label removal (any case), but nothing else the bot's login is on", () => {
    const echo = stop({ by: "forgehand[BOT]" });
    expect(isSelfInflicted(echo, run)).toBe(true);
    expect(stopApplies(echo, run)).toBe(false);
    expect(stopApplies({ ...echo, runId: "r1" }, run)).toBe(false);
    // Other reasons are never the bot's finishing step: an operator whose name is the bot's still stops.
    expect(stopApplies(stop({ by: "forgehand[bot]", reason: "operator" }), run)).toBe(true);
    expect(stopApplies(stop({ by: "forgehand[bot]", reason: "issue_closed" }), run)).toBe(true);
    // Without a known login nothing is dropped.
    expect(stopApplies(echo, { ...run, botLogin: undefined })).toBe(true);
  });
});

describe("createStopWatcher", () => {
  it("logs an error of its subscriber connection instead of leaving it unhandled", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: "debug", format: "json", write: (l) => lines.push(JSON.parse(l)) });
    const subscriber = createRedis(testRedisUrl(), "worker");
    const redis = createRedis(testRedisUrl(), "worker");
    const watcher = createStopWatcher({ subscriber, redis, prefix: "fh-test-sw", pollMs: 60_000, logger });
    try {
      // An EventEmitter throws an "error" nobody listens to.
      expect(() => subscriber.emit("error", new Error("ECONNRESET"))).not.toThrow();
      expect(lines.find((l) => l.msg === "stop channel connection error")).toBeDefined();
    } finally {
      await watcher.close();
      await redis.quit();
    }
  });
});
