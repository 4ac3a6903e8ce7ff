import { join } from "node:path";
import type { RunStore } from "@forgehand/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/helpers/wait-for";
import { enqueueStage } from "./enqueue-stage";
import { anyAlive, fixtureAgentPids } from "./testing/fixture-agent-pids";
import { forgeError, type MemoryForge } from "./testing/memory-forge";
import { fixtureConfig } from "./testing/runner-fixture";
import { events, POLL, ref, useRunnerHarness } from "./testing/runner-harness";

describe("runner (in process): retries and the issue lease", () => {
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
  });

  it("retries a transient failure no sooner than the Retry-After the agent printed", async () => {
    const log = join(dir, "agent.log");
    const env = {
      FIXTURE_LOG: log,
      FIXTURE_MODE: "ratelimit",
      FIXTURE_STATE: join(dir, "state"),
      FIXTURE_RETRY_AFTER: "2",
    };
    await start(fixtureConfig(env)).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("t1") });
    const run = await ended(runId);
    expect(run.state).toBe("succeeded");
    expect(run.attempts).toBe(2);
    const [first, second] = events(log).filter((e) => e.kind === "start");
    const firstEnd = events(log).find((e) => e.kind === "end");
    expect(first && second && firstEnd).toBeTruthy();
    expect((second?.at ?? 0) - (firstEnd?.at ?? 0)).toBeGreaterThanOrEqual(2_000);
    expect(forge.labelsOf(7)).not.toContain("forgehand:failed");
    expect((await store.readLog(runId)).map((e) => e.line).join("\n")).toMatch(/transient failure \(rate limited/);
  });

  it("retries a run whose forge call failed with a 5xx", async () => {
    await start(fixtureConfig({})).start();
    // Fails inside the stage (the issue itself was read once by the trigger check, and reused).
    forge.failNext("gitCredentials", forgeError(502, "Bad Gateway"));
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("f5") });
    const run = await ended(runId);
    expect(run).toMatchObject({ state: "succeeded", attempts: 2 });
    expect((await store.readLog(runId)).map((e) => e.line).join("\n")).toContain("forge answered 502");
    expect(forge.calls.filter((c) => c.method === "getIssue")).toHaveLength(2);
  });

  it("a forge 5xx while checking the trigger delays the run without spending an attempt", async () => {
    await start(fixtureConfig({})).start();
    forge.failNext("getIssue", forgeError(502, "Bad Gateway"));
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("f6") });
    expect(await ended(runId)).toMatchObject({ state: "succeeded", attempts: 1 });
    expect(forge.calls.filter((c) => c.method === "getIssue")).toHaveLength(2);
  });

  it("stops its agent and re-queues the run when another token takes the issue lease", async () => {
    const log = join(dir, "agent.log");
    const env = {
      FIXTURE_LOG: log,
      FIXTURE_COUNT: join(dir, "count"),
      FIXTURE_SLEEP_FIRST_MS: "30000",
      FIXTURE_SLEEP_MS: "50",
    };
    await start(fixtureConfig(env)).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("ls") });
    await waitFor("agent start", async () => events(log)[0], POLL);
    const firstPids = fixtureAgentPids(log);
    expect(firstPids).toHaveLength(1);
    await redis.set(`${prefix}:lease:github:acme/app#7`, "intruder", "PX", 1_500);
    const run = await ended(runId);
    expect(run).toMatchObject({ state: "succeeded", attempts: 2 });
    expect(anyAlive(firstPids)).toBe(false);
    expect((await store.readLog(runId)).map((e) => e.line).join("\n")).toContain("issue lease lost");
  });

  it("gives up after the transient retry budget and fails the run", async () => {
    const env = {
      FIXTURE_MODE: "ratelimit",
      FIXTURE_STATE: join(dir, "state"),
      FIXTURE_FAILURES: "99",
      FIXTURE_RETRY_AFTER: "0",
    };
    await start(fixtureConfig(env, { runner: { transientRetries: 1 } })).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("t2") });
    const run = await ended(runId);
    expect(run).toMatchObject({ state: "failed", attempts: 2 });
    expect(run.reason).toContain("gave up after 1 retries");
    expect(forge.labelsOf(7)).toContain("forgehand:failed");
  });

  it("never runs two agents for one issue at once, even with free concurrency", async () => {
    const log = join(dir, "agent.log");
    await start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "300" })).start();
    const ids = await Promise.all(
      // Operator runs: label runs would (rightly) not start once the first success removed the label.
      [1, 2, 3, 4].map((i) =>
        enqueueStage(queue, store, {
          ref,
          stage: "develop",
          trigger: { kind: "operator", by: "op", deliveryId: `c${i}` },
        }),
      ),
    );
    for (const id of ids) expect((await ended(id)).state).toBe("succeeded");
    const ev = events(log).sort((x, y) => x.at - y.at);
    expect(ev).toHaveLength(8);
    for (let i = 0; i < ev.length; i += 2) {
      expect(ev[i]?.kind).toBe("start");
      expect(ev[i + 1]).toMatchObject({ kind: "end", runId: ev[i]?.runId });
    }
  });
});
