import { type IssueRef, issueKey } from "@forgehand/core";
import { Queue } from "bullmq";
import type { ChainableCommander } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { type CommandJob, runIdFor, STAGE_QUEUE, type StageJob } from "./jobs";
import {
  addJobs,
  addToMulti,
  commandJobIdFor,
  commandJobOn,
  JOB_NAMES,
  jobOptionsFor,
  stageJobOn,
} from "./produce-jobs";

const ref: IssueRef = {
  repo: { forge: "github", fullName: "o/r", owner: "o", name: "r", cloneUrl: "https://example.test/o/r.git" },
  number: 1,
  isPr: false,
};

function stageJob(deliveryId: string): StageJob {
  const trigger = { kind: "label" as const, by: "a", deliveryId };
  return {
    kind: "stage",
    runId: runIdFor("github", deliveryId, "develop", issueKey(ref)),
    ref,
    stage: "develop",
    trigger,
    requestedAt: 1,
  };
}

describe("job ids and options", () => {
  it("command job ids are stable per forge+delivery, distinct otherwise, and valid BullMQ ids", () => {
    const a = commandJobIdFor("github", "o/r", 1);
    expect(commandJobIdFor("github", "o/r", 1)).toBe(a);
    expect(commandJobIdFor("gitea", "o/r", 1)).not.toBe(a);
    expect(commandJobIdFor("github", "o/r2", 1)).not.toBe(a);
    expect(commandJobIdFor("github", "o/r", 2)).not.toBe(a);
    expect(a).toMatch(/^c[0-9a-f]{12}$/);
    expect(a).not.toBe(runIdFor("github", "d1", "x", "y"));
  });

  it("keeps jobs for a week", () => {
    expect(jobOptionsFor("r1")).toEqual({
      jobId: "r1",
      removeOnComplete: { age: 604800 },
      removeOnFail: { age: 604800 },
    });
  });
});

describe("addToMulti", () => {
  const redis = testRedis();
  const prefix = uniquePrefix("produce");
  const queue = new Queue(STAGE_QUEUE, { connection: redis, prefix });
  beforeAll(() => queue.waitUntilReady());
  afterAll(async () => {
    await queue.close();
    await redis.quit();
  });

  it("queues the add (and a stage job's place in its issue's order) on a MULTI: name, fixed id, retention; a re-add is a no-op", async () => {
    const client = await queue.client;
    const job = stageJobOn(queue, stageJob("d1"));
    const multi = client.multi();
    addToMulti(multi as unknown as ChainableCommander, job);
    addToMulti(multi as unknown as ChainableCommander, job);
    const replies = await multi.exec();
    // The add, then the order set's ZADD NX (1 when new, 0 for the re-add) and its EXPIRE.
    expect(replies).toEqual([
      [null, job.id],
      [null, 1],
      [null, 1],
      [null, job.id],
      [null, 0],
      [null, 1],
    ]);
    const stored = await queue.getJob(job.id);
    expect(stored?.name).toBe(JOB_NAMES.stage);
    expect(stored?.data).toEqual(job.data);
    expect(stored?.opts.removeOnComplete).toEqual({ age: 604800 });
    expect((await queue.getJobCounts("waiting")).waiting).toBe(1);
  });

  it("addJobs adds through the same path (enqueueStage's), and command jobs take their id from the comment", async () => {
    const command: CommandJob = {
      kind: "command",
      ref,
      commentId: 7,
      sender: { login: "a" },
      commands: [{ name: "status" }],
      deliveryId: "d2",
      requestedAt: 1,
    };
    const job = commandJobOn(queue, "github", command);
    expect(job).toMatchObject({ name: JOB_NAMES.command, id: commandJobIdFor("github", "o/r", 7) });
    await addJobs([stageJobOn(queue, stageJob("d3")), job]);
    expect((await queue.getJob(job.id))?.name).toBe("command");
    expect((await queue.getJob(stageJob("d3").runId))?.name).toBe("stage");
  });
});
