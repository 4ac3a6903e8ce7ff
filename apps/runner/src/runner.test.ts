import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "@forgehand/core";
import type { RunStore } from "@forgehand/queue";
import type { Queue } from "bullmq";
import { beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/helpers/wait-for";
import { enqueueStage } from "./enqueue-stage";
import type { MemoryForge } from "./testing/memory-forge";
import { fixtureConfig } from "./testing/runner-fixture";
import { events, ref, useRunnerHarness } from "./testing/runner-harness";

describe("runner (in process): stage runs", () => {
  const h = useRunnerHarness();
  const { start, trigger, ended } = h;
  let dir: string;
  let store: RunStore;
  let queue: Queue;
  let forge: MemoryForge;
  beforeEach(() => {
    ({ dir, store, queue, forge } = h.state());
  });

  it("runs a stage: rendered prompt, clean env, status comment, labels moved on", async () => {
    const log = join(dir, "agent.log");
    await start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_WRITE: "out.txt" })).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("d1") });
    const run = await ended(runId);
    expect(run).toMatchObject({ state: "succeeded", attempts: 1, runner: "r1", branch: "forgehand/7-test" });
    const written = readFileSync(join(dir, "ws", "issue-7", "out.txt"), "utf8");
    expect(written).toContain("Fix Login fails in acme/app (#7) on forgehand/7-test:\nSteps: $(rm -rf /) `x`");
    expect(forge.labelsOf(7)).toEqual(["agent:review"]);
    // The record turns terminal just before the final status edit lands: wait for that edit, don't race it.
    const comment = await waitFor("the final status comment", () =>
      forge.issues
        .get(7)
        ?.comments.find((c) => c.body.includes(`forgehand:run=${runId}`) && !c.body.includes("running")),
    );
    expect(comment.body).toContain("succeeded");
    const logText = (await store.readLog(runId)).map((e) => e.line).join("\n");
    expect(logText).toContain("prompt has");
    expect(logText).toContain("run ended: succeeded");
    expect(events(log).map((e) => e.kind)).toEqual(["start", "end"]);
  });

  it("gives the agent only its env, PATH, the sandbox's HOME and proxy, and FORGEHAND_* variables", async () => {
    const config = fixtureConfig({ FIXTURE_WRITE: "env.json" });
    const agent = config.agents.fixture as Config["agents"][string];
    agent.command = [process.execPath, "-e", "require('fs').writeFileSync('env.json', JSON.stringify(process.env))"];
    await start(config).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("env") });
    expect((await ended(runId)).state).toBe("succeeded");
    const env = JSON.parse(readFileSync(join(dir, "ws", "issue-7", "env.json"), "utf8"));
    expect(env.GITHUB_TOKEN).toBeUndefined();
    expect(env).toMatchObject({
      FIXTURE_WRITE: "env.json",
      FORGEHAND_RUN_ID: runId,
      FORGEHAND_ISSUE: "7",
      FORGEHAND_STAGE: "develop",
    });
    expect(env.FORGEHAND_WORKTREE).toBe(join(dir, "ws", "issue-7"));
    // The sandbox's own HOME, never the runner's; egress only through the sandbox's proxy bridge.
    expect(env.HOME).toBe("/home/agent");
    expect(env.HTTPS_PROXY).toBe("http://127.0.0.1:3128");
    const sandboxOwn = /^(HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy|GIT_CONFIG_(COUNT|KEY_0|VALUE_0))$/;
    expect(Object.keys(env).filter((k) => !/^(PATH|HOME|FIXTURE_|FORGEHAND_)/.test(k) && !sandboxOwn.test(k))).toEqual(
      [],
    );
  });

  it("estimates live cost with the built-in prices when the config lists none", async () => {
    const config = fixtureConfig({});
    expect(config.prices).toEqual({});
    const agent = config.agents.fixture as Config["agents"][string];
    agent.parser = "claude-stream-json";
    // One Opus turn with 1M input tokens (≈ $5 at list price), then idle: only the estimate can end it.
    const line = JSON.stringify({
      type: "assistant",
      message: {
        id: "msg_1",
        model: "claude-opus-4-5",
        content: [{ type: "text", text: "thinking" }],
        usage: { input_tokens: 1_000_000, output_tokens: 10 },
      },
    });
    agent.command = [process.execPath, "-e", `console.log(${JSON.stringify(line)}); setInterval(() => {}, 1000)`];
    (config.stages[0] as Config["stages"][number]).limits.maxBudgetUsd = 1;
    await start(config).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("price") });
    const run = await ended(runId);
    expect(run.state).toBe("budget_limit");
    expect(run.costUsd).toBeGreaterThan(1);
  });

  it("does not retry a permanent failure and labels the issue forgehand:failed", async () => {
    const log = join(dir, "agent.log");
    await start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_MODE: "fail" })).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("p1") });
    const run = await ended(runId);
    expect(run.state).toBe("failed");
    expect(run.attempts).toBe(1);
    expect(run.reason).toContain("something is broken");
    await sleep(500);
    expect(events(log).filter((e) => e.kind === "start")).toHaveLength(1);
    expect(forge.labelsOf(7)).toContain("forgehand:failed");
    expect(forge.labelsOf(7)).toContain("agent:develop");
  });

  /** A claude-stream-json agent: one Opus turn of 120k input tokens (≈ $0.60), then a 429 on its first attempt only. */
  function costlyFlakyAgent(budgetUsd: number): Config {
    const config = fixtureConfig({ STATE: join(dir, "attempted") });
    const agent = config.agents.fixture as Config["agents"][string];
    agent.parser = "claude-stream-json";
    const turn = JSON.stringify({
      type: "assistant",
      message: {
        id: "msg_1",
        model: "claude-opus-4-5",
        content: [{ type: "tool_use", id: "t1", name: "Read", input: { file_path: "a.ts" } }],
        usage: { input_tokens: 120_000, output_tokens: 0 },
      },
    });
    const result = JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "done" });
    const script = [
      "const fs = require('fs');",
      "const again = fs.existsSync(process.env.STATE); fs.writeFileSync(process.env.STATE, 'x');",
      `console.log(${JSON.stringify(turn)});`,
      "if (!again) { console.error('API Error: 429 rate_limit_error; retry-after: 0'); process.exit(1); }",
      `setTimeout(() => console.log(${JSON.stringify(result)}), 300);`,
    ].join("\n");
    agent.command = [process.execPath, "-e", script];
    (config.stages[0] as Config["stages"][number]).limits.maxBudgetUsd = budgetUsd;
    return config;
  }

  it("counts turns and cost over all attempts of a run: the record shows the total", async () => {
    await start(costlyFlakyAgent(5)).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("sum") });
    const run = await ended(runId);
    expect(run).toMatchObject({ state: "succeeded", attempts: 2, turns: 2 });
    expect(run.costUsd).toBeCloseTo(1.2, 5);
  });

  it("holds maxBudgetUsd over all attempts: a retry gets only what is left of the budget", async () => {
    await start(costlyFlakyAgent(1)).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("cap") });
    const run = await ended(runId);
    expect(run).toMatchObject({ state: "budget_limit", attempts: 2 });
    expect(run.costUsd).toBeGreaterThan(1);
    expect(run.reason).toContain("earlier attempts used 1 turns, $0.6000");
  });

  it("passes resume arguments to the agent when a retry names a session", async () => {
    const config = fixtureConfig({ FIXTURE_WRITE: "out.txt" });
    (config.agents.fixture as Config["agents"][string]).resumeArgs = ["--resume", "{sessionId}"];
    await start(config).start();
    const runId = await enqueueStage(queue, store, {
      ref,
      stage: "develop",
      trigger: { kind: "retry", by: "alice", deliveryId: "rs" },
      resumeSessionId: "sess-0009",
    });
    expect((await ended(runId)).state).toBe("succeeded");
    // Joined as `--flag=<id>`: a CLI cannot take the id for a flag of its own.
    expect(readFileSync(join(dir, "ws", "issue-7", "out.txt"), "utf8")).toContain('argv: ["--resume=sess-0009"]');
  });

  it("fails a forged retry job whose session id is flag-like, without starting the agent", async () => {
    const log = join(dir, "agent.log");
    const config = fixtureConfig({ FIXTURE_LOG: log });
    (config.agents.fixture as Config["agents"][string]).resumeArgs = ["--resume", "{sessionId}"];
    await start(config).start();
    // enqueueStage refuses such an id (StageJob.parse), so add it raw, as anything that can write to Redis could.
    const data = {
      kind: "stage",
      runId: "r-forged",
      ref,
      stage: "develop",
      trigger: { kind: "retry", by: "alice", deliveryId: "rs-evil" },
      requestedAt: Date.now(),
      resumeSessionId: "--dangerously-skip-permissions",
    };
    await expect(enqueueStage(queue, store, { ...data, trigger: data.trigger as never })).rejects.toThrow(
      /resumeSessionId/,
    );
    await queue.add("stage", data, { jobId: "r-forged" });
    // Read again once failed: a job read just before the move holds no failedReason yet.
    const failed = await waitFor("the forged job to fail", async () => {
      if ((await queue.getJobState("r-forged")) !== "failed") return undefined;
      const job = await queue.getJob("r-forged");
      return job?.failedReason ? job : undefined;
    });
    expect(failed.failedReason).toMatch(/not a stage job: must be 8-128 letters/);
    expect(events(log).length).toBe(0);
  });
});
