import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type RunStore, requestStop } from "@forgehand/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/helpers/wait-for";
import { enqueueStage } from "./enqueue-stage";
import type { MemoryForge } from "./testing/memory-forge";
import { fixtureConfig } from "./testing/runner-fixture";
import { events, POLL, ref, useRunnerHarness } from "./testing/runner-harness";

// Issue 14 §5: stage-scoped stops, coalesced triggers, and an issue's triggers run in the order they came.
describe("runner (in process): stage stops and trigger order", () => {
  const h = useRunnerHarness();
  const { start, trigger, ended } = h;
  let dir: string;
  let redis: Redis;
  let store: RunStore;
  let prefix: string;
  let queue: Queue;
  let forge: MemoryForge;
  beforeEach(() => {
    ({ dir, redis, store, prefix, queue, forge } = h.state());
    forge.labelsOf(7).push("agent:review");
  });

  it("a removed stage label stops that stage's run only, not the other stage's running on the issue", async () => {
    const log = join(dir, "agent.log");
    await start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "30000" })).start();
    const develop = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("o1") });
    await waitFor("develop's agent", async () => events(log).length > 0, POLL);
    const review = await enqueueStage(queue, store, { ref, stage: "review", trigger: trigger("o2") });
    // `agent:review` removed: a stop for stage review; develop keeps running.
    await requestStop(redis, prefix, {
      issue: "github:acme/app#7",
      stage: "review",
      by: "bob",
      reason: "label_removed",
      at: Date.now(),
    });
    expect(await ended(review)).toMatchObject({ state: "stopped", stoppedBy: "bob" });
    expect((await store.get(develop))?.state).toBe("running");
    // `agent:develop` removed: develop stops.
    await requestStop(redis, prefix, {
      issue: "github:acme/app#7",
      stage: "develop",
      by: "bob",
      reason: "label_removed",
      at: Date.now(),
    });
    expect(await ended(develop)).toMatchObject({ state: "stopped", stoppedBy: "bob" });
    expect(events(log).length).toBe(1);
  });

  it("coalesces a second trigger for a stage already queued, and runs the issue's triggers in the order they came", async () => {
    const log = join(dir, "agent.log");
    await start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "1500" }, { runner: { concurrency: 3 } })).start();
    const first = await enqueueStage(queue, store, { ref, stage: "review", trigger: trigger("q1") });
    await waitFor("the first agent", async () => events(log).length > 0, POLL);
    const develop = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("q2") });
    await sleep(5);
    const review = await enqueueStage(queue, store, { ref, stage: "review", trigger: trigger("q3") });
    await sleep(5);
    const again = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("q4") });
    expect(await ended(again)).toMatchObject({ state: "stopped" });
    expect((await store.get(again))?.reason).toContain(`run ${develop} of stage "develop" is already queued`);
    const [a, b, c] = [await ended(first), await ended(develop), await ended(review)];
    expect([a.state, b.state, c.state]).toEqual(["succeeded", "succeeded", "succeeded"]);
    // In the order they came: review (running), then develop, then the second review.
    expect(a.startedAt!).toBeLessThan(b.startedAt!);
    expect(b.startedAt!).toBeLessThan(c.startedAt!);
  });

  it("a `/run` for a stage already waiting is coalesced at enqueue: its record ends at once and no job is added", async () => {
    const log = join(dir, "agent.log");
    await start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "30000" })).start();
    const order = { redis, prefix };
    const command = (id: string) => ({ kind: "command" as const, by: "alice", deliveryId: id });
    const running = await enqueueStage(queue, store, { ref, stage: "develop", trigger: command("c1") }, order);
    await waitFor("the first agent", async () => events(log).length > 0, POLL);
    // The running run has left the order: a trigger now waits for a run after it, it is not folded into it.
    const waiting = await enqueueStage(queue, store, { ref, stage: "develop", trigger: command("c2") }, order);
    expect((await store.get(waiting))?.state).toBe("queued");
    const folded = await enqueueStage(queue, store, { ref, stage: "develop", trigger: command("c3") }, order);
    expect(await store.get(folded)).toMatchObject({
      state: "stopped",
      reason: `not started: run ${waiting} of stage "develop" is already queued for github:acme/app#7`,
    });
    expect(await queue.getJob(folded)).toBeUndefined();
    expect(await queue.getJob(waiting)).toBeDefined();
    // Another stage is not coalesced with it.
    const review = await enqueueStage(queue, store, { ref, stage: "review", trigger: command("c4") }, order);
    expect((await store.get(review))?.state).toBe("queued");
    expect((await store.get(running))?.state).toBe("running");
  });
});
