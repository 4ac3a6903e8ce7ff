import { STAGE_OUTPUT_MAX } from "@forgehand/core";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { createStageOutputStore } from "./stage-outputs";

describe("stage output store (real redis)", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(async () => {
    await redis.quit();
  });

  it("keeps each stage's latest output per issue; previous is the last to finish; texts are capped", async () => {
    const prefix = uniquePrefix("outputs");
    const store = createStageOutputStore(redis, prefix);
    const issue = "github:o/r#1";
    expect(await store.read(issue)).toEqual({ byStage: {} });
    await store.save(issue, { stage: "analyse", runId: "r1", output: "plan v1", endedAt: 100 });
    await store.save(issue, { stage: "develop", runId: "r2", output: "did it", endedAt: 200 });
    await store.save(issue, {
      stage: "analyse",
      runId: "r3",
      output: "x".repeat(STAGE_OUTPUT_MAX + 500),
      endedAt: 300,
    });
    await store.save("github:o/r#2", { stage: "review", runId: "r4", output: "other issue", endedAt: 400 });
    const read = await store.read(issue);
    expect(read.previous?.runId).toBe("r3");
    expect(read.byStage.develop?.output).toBe("did it");
    expect(read.byStage.analyse?.output.length).toBeLessThan(STAGE_OUTPUT_MAX + 100);
    expect(read.byStage.analyse?.output).toContain("[cut: 500 more characters in the run log]");
    expect(read.byStage.review).toBeUndefined();
    expect(await redis.ttl(`${prefix}:outputs:${issue}`)).toBeGreaterThan(0);
    // A corrupt field (anything that can write Redis) is skipped, not thrown.
    await redis.hset(`${prefix}:outputs:${issue}`, "evil", "{not json");
    expect(Object.keys((await store.read(issue)).byStage).sort()).toEqual(["analyse", "develop"]);
  });
});
