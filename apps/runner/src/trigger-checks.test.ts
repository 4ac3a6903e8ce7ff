import { join } from "node:path";
import type { Config } from "@forgehand/core";
import { type RunStore, readRunMetrics } from "@forgehand/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/helpers/wait-for";
import { enqueueStage } from "./enqueue-stage";
import type { MemoryForge } from "./testing/memory-forge";
import { fixtureConfig } from "./testing/runner-fixture";
import { events, ref, useRunnerHarness } from "./testing/runner-harness";

describe("runner: who may start a stage, and only while the trigger holds", () => {
  const h = useRunnerHarness();
  const { start, ended } = h;
  let dir: string;
  let redis: Redis;
  let store: RunStore;
  let prefix: string;
  let queue: Queue;
  let forge: MemoryForge;
  beforeEach(() => {
    ({ dir, redis, store, prefix, queue, forge } = h.state());
  });
  const label = (by: string, id: string) => ({ kind: "label" as const, by, deliveryId: id });
  const replies = () => forge.calls.filter((c) => c.method === "createComment").map((c) => c.args[1] as string);

  it("a read-only user's label starts nothing, is told why once per issue and stage, and is counted", async () => {
    const log = join(dir, "agent.log");
    forge.permissions.set("mallory", "read");
    const config = fixtureConfig({ FIXTURE_LOG: log });
    config.commands.permissionCacheTtl = 0;
    await start(config).start();
    const a = await enqueueStage(queue, store, { ref, stage: "develop", trigger: label("mallory", "m1") });
    expect(await ended(a)).toMatchObject({
      state: "stopped",
      reason: 'not started: mallory has read access; starting stage "develop" needs write, maintain or admin',
    });
    const b = await enqueueStage(queue, store, { ref, stage: "develop", trigger: label("mallory", "m2") });
    expect((await ended(b)).state).toBe("stopped");
    expect(events(log)).toEqual([]);
    await waitFor("the refusal reply", () => replies().length > 0, { timeoutMs: 10_000, intervalMs: 50 });
    expect(replies()).toEqual([
      "@mallory, only collaborators with write, maintain or admin access can start `develop`.",
    ]);
    // The label is left alone: removing it would hide what the person did (and fire another delivery).
    expect(forge.labelsOf(7)).toContain("agent:develop");
    expect(forge.calls.some((c) => c.method === "removeLabel")).toBe(false);
    // The refusal is counted right after the run record ends: wait for the count, not for the record.
    await waitFor(
      "both refusals counted",
      async () => (await readRunMetrics(redis, prefix)).deniedTriggers.label === 2,
      {
        timeoutMs: 10_000,
        intervalMs: 50,
      },
    );
    expect((await readRunMetrics(redis, prefix)).deniedTriggers).toEqual({ label: 2 });
    // The same person with write access starts it.
    forge.permissions.set("mallory", "write");
    const c = await enqueueStage(queue, store, { ref, stage: "develop", trigger: label("mallory", "m3") });
    expect((await ended(c)).state).toBe("succeeded");
  });

  it("stages[].allow narrows who may label; allowUsers and the bot's own `next` label pass without a permission", async () => {
    forge.permissions.set("wendy", "write");
    forge.permissions.set("forgehand[bot]", "none");
    forge.permissions.set("helper[bot]", "none");
    const config = fixtureConfig({});
    (config.stages[0] as Config["stages"][number]).allow = ["admin"];
    config.commands.allowUsers = ["helper[bot]"];
    await start(config).start();
    const denied = await enqueueStage(queue, store, { ref, stage: "develop", trigger: label("wendy", "w1") });
    expect((await ended(denied)).reason).toMatch(/wendy has write access; .* needs admin$/);
    // The reply is posted right after the run record ends: wait for it, not for the record.
    await waitFor("the refusal reply", () => replies().length > 0, { timeoutMs: 10_000, intervalMs: 50 });
    expect(replies()).toEqual(["@wendy, only collaborators with admin access can start `develop`."]);
    // `/run develop` from a write user is refused too: the stage says admin.
    const run = await enqueueStage(queue, store, {
      ref,
      stage: "develop",
      trigger: { kind: "command", by: "wendy", deliveryId: "w2" },
    });
    expect((await ended(run)).state).toBe("stopped");
    const bot = await enqueueStage(queue, store, { ref, stage: "develop", trigger: label("forgehand[bot]", "b1") });
    expect((await ended(bot)).state).toBe("succeeded");
    forge.addLabels(ref, ["agent:develop"]);
    const helper = await enqueueStage(queue, store, { ref, stage: "develop", trigger: label("helper[bot]", "b2") });
    expect((await ended(helper)).state).toBe("succeeded");
  });

  it("a run whose label was removed before it started ends stopped, says why, and runs no agent", async () => {
    const log = join(dir, "agent.log");
    await forge.removeLabel(ref, "agent:develop");
    await start(fixtureConfig({ FIXTURE_LOG: log })).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: label("alice", "gone-1") });
    const run = await ended(runId);
    expect(run).toMatchObject({
      state: "stopped",
      reason: "not started: the label `agent:develop` is no longer on github:acme/app#7",
    });
    expect(run.startedAt).toBeUndefined();
    expect(events(log)).toEqual([]);
    const status = forge.issues.get(7)?.comments.find((c) => c.body.includes(`forgehand:run=${runId}`));
    expect(status?.body).toMatch(/stopped/);
    expect(status?.body).toContain("is no longer on");
  });

  it("a /run whose comment was deleted or edited starts nothing; an untouched one runs", async () => {
    const log = join(dir, "agent.log");
    const issue = forge.issues.get(7);
    const now = new Date().toISOString();
    issue?.comments.push(
      { id: 501, author: "alice", body: "/run develop", createdAt: now, updatedAt: now },
      {
        id: 502,
        author: "alice",
        body: "/run develop",
        createdAt: now,
        updatedAt: new Date(Date.now() + 5_000).toISOString(),
      },
    );
    await start(fixtureConfig({ FIXTURE_LOG: log })).start();
    const cmd = (id: string, commentId: number) => ({
      kind: "command" as const,
      by: "alice",
      deliveryId: id,
      commentId,
    });
    const deleted = await enqueueStage(queue, store, { ref, stage: "develop", trigger: cmd("c1", 999) });
    expect((await ended(deleted)).reason).toBe("not started: the comment that asked for it (999) was deleted");
    const edited = await enqueueStage(queue, store, { ref, stage: "develop", trigger: cmd("c2", 502) });
    expect((await ended(edited)).reason).toMatch(/\(502\) was edited after it was posted/);
    expect(events(log)).toEqual([]);
    const ok = await enqueueStage(queue, store, { ref, stage: "develop", trigger: cmd("c3", 501) });
    expect((await ended(ok)).state).toBe("succeeded");
  });
});
