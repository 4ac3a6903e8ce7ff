import { join } from "node:path";
import type { RunRecord } from "@forgehand/core";
import type { RunStore } from "@forgehand/queue";
import type { Queue } from "bullmq";
import { beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/helpers/wait-for";
import { enqueueStage } from "./enqueue-stage";
import { anyAlive, fixtureAgentPids } from "./testing/fixture-agent-pids";
import { fixtureConfig } from "./testing/runner-fixture";
import { events, POLL, ref, useRunnerHarness } from "./testing/runner-harness";

describe("runner (in process): start and close", () => {
  const h = useRunnerHarness();
  const { start, trigger, ended } = h;
  let dir: string;
  let store: RunStore;
  let queue: Queue;
  beforeEach(() => {
    ({ dir, store, queue } = h.state());
  });

  it("on close, stops agents past the grace period and returns their jobs to the queue", async () => {
    const log = join(dir, "agent.log");
    const config = fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "1500" });
    const first = start(config, { id: "r1" });
    await first.start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("sh") });
    await waitFor("agent start", async () => events(log).length > 0, POLL);
    const agentPids = fixtureAgentPids(log);
    expect(agentPids).toHaveLength(1);
    await first.close({ graceMs: 100 });
    const back = (await store.get(runId)) as RunRecord;
    expect(back.state).toBe("queued");
    expect(back.reason).toContain("runner shutting down");
    expect(["delayed", "waiting"]).toContain(await (await queue.getJob(runId))?.getState());
    expect(anyAlive(agentPids)).toBe(false);
    await start(config, { id: "r2" }).start();
    expect(await ended(runId)).toMatchObject({ state: "succeeded", runner: "r2", attempts: 2 });
  });

  it("lets running agents finish within the grace period", async () => {
    const log = join(dir, "agent.log");
    const runner = start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "500" }));
    await runner.start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("g") });
    await waitFor("agent start", async () => events(log).length > 0, POLL);
    await runner.close({ graceMs: 10_000 });
    expect((await store.get(runId))?.state).toBe("succeeded");
  });

  it("a close that arrives during start waits for it, then leaves no worker behind", async () => {
    const runner = start(fixtureConfig({}), { id: "early-close" });
    const starting = runner.start();
    // No await: a SIGTERM can land while start() is still connecting.
    await runner.close({ graceMs: 0 });
    await starting;
    expect(await queue.getWorkers()).toEqual([]);
    // Closing again is a no-op, not a second teardown.
    await runner.close({ graceMs: 0 });
  });
});
