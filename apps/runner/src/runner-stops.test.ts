import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "@forgehand/core";
import { COMMAND_QUEUE, type RunStore, requestStop, stopRun } from "@forgehand/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/helpers/wait-for";
import { enqueueStage } from "./enqueue-stage";
import { anyAlive, fixtureAgentPids } from "./testing/fixture-agent-pids";
import type { MemoryForge } from "./testing/memory-forge";
import { fixtureConfig } from "./testing/runner-fixture";
import { events, FAST, POLL, ref, useRunnerHarness } from "./testing/runner-harness";

describe("runner (in process): stops and commands", () => {
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

  it("stops a running agent on a stop request and cancels a queued run", async () => {
    const log = join(dir, "agent.log");
    await start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "30000", FIXTURE_MODE: "ignore-term" })).start();
    const a = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("s1") });
    await waitFor("agent start", async () => events(log).length > 0, POLL);
    const agentPids = fixtureAgentPids(log);
    expect(agentPids).toHaveLength(1);
    const b = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("s2") });
    await sleep(300);
    expect((await store.get(b))?.state).toBe("queued");
    const began = Date.now();
    expect(await stopRun(redis, prefix, a, "operator")).toEqual({ found: true, state: "running" });
    const run = await ended(a);
    expect(run).toMatchObject({ state: "stopped", stoppedBy: "operator" });
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(anyAlive(agentPids)).toBe(false);
    // The second run was not named by the stop: it now runs; an issue-wide stop cancels it too.
    await waitFor("second agent", async () => events(log).length > 1, POLL);
    await requestStop(redis, prefix, { issue: "github:acme/app#7", by: "bob", reason: "command", at: Date.now() });
    expect(await ended(b)).toMatchObject({ state: "stopped", stoppedBy: "bob" });
    expect(forge.labelsOf(7)).not.toContain("forgehand:failed");
    expect(await stopRun(redis, prefix, "nope", "x")).toEqual({ found: false });
  });

  it("a stop ends a run waiting out a long Retry-After at once, not when its delay is over", async () => {
    const log = join(dir, "agent.log");
    const env = {
      FIXTURE_LOG: log,
      FIXTURE_MODE: "ratelimit",
      FIXTURE_STATE: join(dir, "state"),
      FIXTURE_RETRY_AFTER: "120",
    };
    await start(fixtureConfig(env)).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("ra") });
    await waitFor(
      "the retry to be scheduled",
      async () => (await queue.getDelayed()).some((j) => j.id === runId),
      POLL,
    );
    const began = Date.now();
    await requestStop(redis, prefix, { issue: "github:acme/app#7", by: "dave", reason: "command", at: Date.now() });
    const run = await ended(runId);
    expect(run).toMatchObject({ state: "stopped", stoppedBy: "dave", attempts: 1 });
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(events(log).filter((e) => e.kind === "start")).toHaveLength(1);
    // The status comment, which said `queued` while the retry waited, is edited to say `stopped`.
    const comment = () => forge.issues.get(7)?.comments.find((c) => c.body.includes(`forgehand:run=${runId}`));
    await waitFor("the status comment to say stopped", async () => /`develop` stopped/.test(comment()?.body ?? ""), {
      ...POLL,
      timeoutMs: 5_000,
    });
  });

  it("cancels a queued run whose issue was stopped after it was requested, without starting it", async () => {
    const log = join(dir, "agent.log");
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("q1") });
    await requestStop(redis, prefix, {
      issue: "github:acme/app#7",
      by: "carol",
      reason: "label_removed",
      at: Date.now(),
    });
    await start(fixtureConfig({ FIXTURE_LOG: log })).start();
    expect(await ended(runId)).toMatchObject({ state: "stopped", stoppedBy: "carol", attempts: 0 });
    expect(events(log)).toEqual([]);
    // A trigger newer than the stop runs normally.
    await sleep(5);
    const later = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("q2") });
    expect((await ended(later)).state).toBe("succeeded");
  });

  it("ignores the echo of its own label removal: the finishing run and the queued next one both succeed", async () => {
    // What a webhook that does not know the bot's login sends when the runner removes the stage
    // label on success: an issue-wide label_removed stop by the bot, while the run is still live
    // (held here past the stop poll) and another run for the issue waits in the queue.
    const removeLabel = forge.removeLabel.bind(forge);
    let echoes = 0;
    // The label itself stays: a queued run whose label is really gone would (rightly) not start at all.
    forge.removeLabel = async () => {
      echoes++;
      await requestStop(redis, prefix, {
        issue: "github:acme/app#7",
        by: "forgehand[bot]",
        reason: "label_removed",
        at: Date.now(),
      });
      await sleep(FAST.stopPollMs * 3);
    };
    await start(fixtureConfig({})).start();
    const first = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("e1") });
    // Once the first runs: a second trigger while the first still waits would be coalesced into it.
    await waitFor("the first run", async () => (await store.get(first))?.state === "running", POLL);
    const second = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("e2") });
    const a = await ended(first);
    const b = await ended(second);
    expect(echoes).toBe(2);
    expect([a.state, b.state]).toEqual(["succeeded", "succeeded"]);
    expect(a.stoppedBy).toBeUndefined();
    expect(b.stoppedBy).toBeUndefined();
    // A person's label removal still stops the next run.
    forge.removeLabel = removeLabel;
    const third = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("e3") });
    await requestStop(redis, prefix, {
      issue: "github:acme/app#7",
      by: "carol",
      reason: "label_removed",
      at: Date.now(),
    });
    expect(await ended(third)).toMatchObject({ state: "stopped", stoppedBy: "carol" });
  });

  it("carries out /stop and /retry from the command queue, resuming the agent session", async () => {
    const log = join(dir, "agent.log");
    const config = fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "30000", FIXTURE_WRITE: "out.txt" });
    (config.agents.fixture as Config["agents"][string]).resumeArgs = ["--resume", "{sessionId}"];
    await start(config).start();
    const commands = new Queue(COMMAND_QUEUE, { connection: redis, prefix });
    const command = (name: "stop" | "retry", id: number) =>
      commands.add("c", {
        kind: "command",
        ref,
        commentId: id,
        sender: { login: "alice" },
        commands: [{ name }],
        deliveryId: `cmd-${id}`,
        requestedAt: Date.now(),
      });
    const first = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("r1") });
    await waitFor("agent start", async () => events(log).length > 0, POLL);
    await command("stop", 1);
    expect(await ended(first)).toMatchObject({ state: "stopped", stoppedBy: "alice" });
    await store.update(first, { sessionId: "sess-123" });
    // The /retry comment exists on the forge: the retried run checks that before it starts.
    forge.issues.get(7)?.comments.push({ id: 2, author: "alice", body: "/retry" });
    await command("retry", 2);
    const retried = await waitFor(
      "retry run",
      async () => {
        const r = await store.latestForIssue("github:acme/app#7");
        return r && r.id !== first ? r : undefined;
      },
      POLL,
    );
    await waitFor("retry agent start", async () => events(log).filter((e) => e.kind === "start").length > 1, POLL);
    await stopRun(redis, prefix, retried.id, "operator");
    expect((await ended(retried.id)).trigger).toBe("retry by alice");
    await commands.close();
    expect(forge.calls.filter((c) => c.method === "addReaction").map((c) => c.args[1])).toContain("+1");
  });
});
