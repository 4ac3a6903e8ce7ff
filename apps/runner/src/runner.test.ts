import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Config, type IssueRef, type RunRecord, silentLogger } from "@forgehand/core";
import { COMMAND_QUEUE, createRunStore, type RunStore, requestStop, STAGE_QUEUE, stopRun } from "@forgehand/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testRedis, testRedisUrl, uniquePrefix } from "../../../test/helpers/redis";
import { waitFor } from "../../../test/helpers/wait-for";
import { createRunner, type Runner } from "./create-runner";
import { enqueueStage } from "./enqueue-stage";
import { MemoryForge, memoryForges } from "./testing/memory-forge";
import { directoryWorkspaces, fixtureConfig, fixtureRepo } from "./testing/runner-fixture";
import { waitForRunEnd } from "./testing/wait-for-run-end";

const FAST = { leaseTtlMs: 3_000, stopPollMs: 200, lockedRetryMs: 100, progressIntervalMs: 100 };
/** How the waits below poll: tight, as the runner's own timings are. */
const POLL = { timeoutMs: 20_000, intervalMs: 50 };

function events(logFile: string): { kind: string; runId: string; pid: number; at: number }[] {
  let text = "";
  try {
    text = readFileSync(logFile, "utf8");
  } catch {}
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [kind, runId, pid, at] = l.split(" ");
      return { kind: kind as string, runId: runId as string, pid: Number(pid), at: Number(at) };
    });
}

describe("runner (in process)", () => {
  let dir: string;
  let redis: Redis;
  let store: RunStore;
  let prefix: string;
  let queue: Queue;
  let forge: MemoryForge;
  const runners: Runner[] = [];
  const ref: IssueRef = { repo: fixtureRepo(), number: 7, isPr: false };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fh-runner-"));
    redis = testRedis();
    prefix = uniquePrefix("runner");
    store = createRunStore(redis, prefix);
    queue = new Queue(STAGE_QUEUE, { connection: redis, prefix });
    forge = new MemoryForge();
    forge.addIssue({ number: 7, title: "Login fails", body: "Steps: $(rm -rf /) `x`", labels: ["agent:develop"] });
  });
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.close({ graceMs: 0 });
    await queue.close();
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(config: Config, over: { env?: NodeJS.ProcessEnv; timings?: object; id?: string } = {}) {
    const runner = createRunner({
      config,
      configDir: dir,
      redisUrl: testRedisUrl(),
      prefix,
      forges: memoryForges(forge),
      logger: silentLogger,
      dataDir: join(dir, over.id ?? "data"),
      concurrency: 2,
      runnerId: over.id ?? "r1",
      env: over.env ?? { PATH: process.env.PATH, HOME: dir, GITHUB_TOKEN: "ghp_secret_should_not_leak" },
      timings: { ...FAST, ...over.timings },
      overrides: { workspaces: directoryWorkspaces(join(dir, "ws")) },
    });
    runners.push(runner);
    return runner;
  }

  const trigger = (id: string) => ({ kind: "label" as const, by: "alice", deliveryId: id });
  const ended = (runId: string) => waitForRunEnd(store, runId, POLL);

  it("runs a stage: rendered prompt, clean env, status comment, labels moved on", async () => {
    const log = join(dir, "agent.log");
    await start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_WRITE: "out.txt" })).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("d1") });
    const run = await ended(runId);
    expect(run).toMatchObject({ state: "succeeded", attempts: 1, runner: "r1", branch: "forgehand/7-test" });
    const written = readFileSync(join(dir, "ws", "issue-7", "out.txt"), "utf8");
    expect(written).toContain("Fix Login fails in acme/app (#7) on forgehand/7-test:\nSteps: $(rm -rf /) `x`");
    expect(forge.labelsOf(7)).toEqual(["agent:review"]);
    const comment = forge.issues.get(7)?.comments.find((c) => c.body.includes(`forgehand:run=${runId}`));
    expect(comment?.body).toContain("succeeded");
    const logText = (await store.readLog(runId)).map((e) => e.line).join("\n");
    expect(logText).toContain("prompt has");
    expect(logText).toContain("run ended: succeeded");
    expect(events(log).map((e) => e.kind)).toEqual(["start", "end"]);
  });

  it("gives the agent only its env, PATH, HOME and FORGEHAND_* variables", async () => {
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
    expect(Object.keys(env).filter((k) => !/^(PATH|HOME|FIXTURE_|FORGEHAND_)/.test(k))).toEqual([]);
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
    forge.failNext("getIssue", Object.assign(new Error("Bad Gateway"), { status: 502 }));
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("f5") });
    const run = await ended(runId);
    expect(run).toMatchObject({ state: "succeeded", attempts: 2 });
    expect((await store.readLog(runId)).map((e) => e.line).join("\n")).toContain("forge answered 502");
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
    const first = await waitFor("agent start", async () => events(log)[0], POLL);
    await redis.set(`${prefix}:lease:github:acme/app#7`, "intruder", "PX", 1_500);
    const run = await ended(runId);
    expect(run).toMatchObject({ state: "succeeded", attempts: 2 });
    expect(() => process.kill(first.pid, 0)).toThrow();
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

  it("stops a running agent on a stop request and cancels a queued run", async () => {
    const log = join(dir, "agent.log");
    await start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "30000", FIXTURE_MODE: "ignore-term" })).start();
    const a = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("s1") });
    await waitFor("agent start", async () => events(log).length > 0, POLL);
    const b = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("s2") });
    await sleep(300);
    expect((await store.get(b))?.state).toBe("queued");
    const began = Date.now();
    expect(await stopRun(redis, prefix, a, "operator")).toEqual({ found: true, state: "running" });
    const run = await ended(a);
    expect(run).toMatchObject({ state: "stopped", stoppedBy: "operator" });
    expect(Date.now() - began).toBeLessThan(10_000);
    const pid = events(log)[0]?.pid as number;
    expect(() => process.kill(pid, 0)).toThrow();
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
    await waitFor("the status comment to say stopped", async () => comment()?.body.includes("· stopped"), {
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
    forge.removeLabel = async (r, label) => {
      await removeLabel(r, label);
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

  it("never runs two agents for one issue at once, even with free concurrency", async () => {
    const log = join(dir, "agent.log");
    await start(fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "300" })).start();
    const ids = await Promise.all(
      [1, 2, 3, 4].map((i) => enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger(`c${i}`) })),
    );
    for (const id of ids) expect((await ended(id)).state).toBe("succeeded");
    const ev = events(log).sort((x, y) => x.at - y.at);
    expect(ev).toHaveLength(8);
    for (let i = 0; i < ev.length; i += 2) {
      expect(ev[i]?.kind).toBe("start");
      expect(ev[i + 1]).toMatchObject({ kind: "end", runId: ev[i]?.runId });
    }
  });

  it("on close, stops agents past the grace period and returns their jobs to the queue", async () => {
    const log = join(dir, "agent.log");
    const config = fixtureConfig({ FIXTURE_LOG: log, FIXTURE_SLEEP_MS: "1500" });
    const first = start(config, { id: "r1" });
    await first.start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("sh") });
    await waitFor("agent start", async () => events(log).length > 0, POLL);
    await first.close({ graceMs: 100 });
    const back = (await store.get(runId)) as RunRecord;
    expect(back.state).toBe("queued");
    expect(back.reason).toContain("runner shutting down");
    expect(["delayed", "waiting"]).toContain(await (await queue.getJob(runId))?.getState());
    const pid = events(log)[0]?.pid as number;
    expect(() => process.kill(pid, 0)).toThrow();
    await start(config, { id: "r2" }).start();
    expect(await ended(runId)).toMatchObject({ state: "succeeded", runner: "r2", attempts: 2 });
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

  it("passes resume arguments to the agent when a retry names a session", async () => {
    const config = fixtureConfig({ FIXTURE_WRITE: "out.txt" });
    (config.agents.fixture as Config["agents"][string]).resumeArgs = ["--resume", "{sessionId}"];
    await start(config).start();
    const runId = await enqueueStage(queue, store, {
      ref,
      stage: "develop",
      trigger: { kind: "retry", by: "alice", deliveryId: "rs" },
      resumeSessionId: "sess-9",
    });
    expect((await ended(runId)).state).toBe("succeeded");
    expect(readFileSync(join(dir, "ws", "issue-7", "out.txt"), "utf8")).toContain('argv: ["--resume","sess-9"]');
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
