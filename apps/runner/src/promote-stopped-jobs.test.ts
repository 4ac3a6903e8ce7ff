import { STAGE_QUEUE, StageJob } from "@forgehand/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { promoteStoppedJobs } from "./promote-stopped-jobs";
import { fixtureRepo } from "./testing/runner-fixture";

describe("promoteStoppedJobs", () => {
  let redis: Redis;
  let prefix: string;
  let queue: Queue;
  beforeEach(() => {
    redis = testRedis();
    prefix = uniquePrefix("promote");
    queue = new Queue(STAGE_QUEUE, { connection: redis, prefix });
  });
  afterEach(async () => {
    await queue.close();
    await redis.quit();
  });

  /** A stage job for `issue` in the delayed set, as a retry backoff leaves it. */
  async function delayedRun(issue: number): Promise<string> {
    const runId = `r-promote-${issue}`;
    const job = StageJob.parse({
      kind: "stage",
      runId,
      ref: { repo: fixtureRepo(), number: issue, isPr: false },
      stage: "develop",
      trigger: { kind: "label", by: "alice", deliveryId: `d-${issue}` },
      requestedAt: Date.now(),
    });
    await queue.add(STAGE_QUEUE, job, { jobId: runId, delay: 600_000 });
    return runId;
  }

  it("brings forward only the delayed jobs the stop applies to, and only once per request", async () => {
    const stopped = await delayedRun(7);
    const other = await delayedRun(8);
    const request = { issue: "github:acme/app#7", by: "bob", reason: "command" as const, at: Date.now() + 1 };
    const deps = { queue, redis, prefix, request, botLogin: () => undefined };

    expect(await promoteStoppedJobs(deps)).toEqual([stopped]);
    expect(await (await queue.getJob(stopped))?.isDelayed()).toBe(false);
    expect(await (await queue.getJob(other))?.isDelayed()).toBe(true);

    // A second runner hearing the same request finds it claimed and does nothing (one scan per stop).
    const later = { ...request, issue: "github:acme/app#9", at: Date.now() + 60_000 };
    expect(await promoteStoppedJobs({ ...deps, request: later })).toEqual([]);
    const waiting = await delayedRun(9);
    expect(await promoteStoppedJobs({ ...deps, request: later })).toEqual([]);
    expect(await (await queue.getJob(waiting))?.isDelayed()).toBe(true);
    // A new request is a new claim.
    expect(await promoteStoppedJobs({ ...deps, request: { ...later, at: later.at + 1 } })).toEqual([waiting]);
  });
});
