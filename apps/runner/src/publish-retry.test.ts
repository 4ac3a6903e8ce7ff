import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, gitOrigin, type IssueRef } from "@forgehand/core";
import { createRunStore, type RunStore, STAGE_QUEUE, stopRun } from "@forgehand/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BareOrigin, createBareOrigin } from "../../../test/helpers/bare-origin";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import { waitFor } from "../../../test/helpers/wait-for";
import type { Runner } from "./create-runner";
import { enqueueStage } from "./enqueue-stage";
import { type GitDaemon, startGitDaemon } from "./testing/git-daemon";
import { gitTestRunner } from "./testing/git-test-runner";
import { forgeError, MemoryForge } from "./testing/memory-forge";
import { fixtureConfig, fixtureRepo } from "./testing/runner-fixture";
import { waitForRunEnd } from "./testing/wait-for-run-end";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    stdio: "pipe",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t",
    },
  }).trim();

/** How the waits below poll: the run ends within a minute on a busy machine. */
const POLL = { timeoutMs: 60_000, intervalMs: 50 };

describe("publishing is retried in place after the agent's work is committed", () => {
  let dir: string;
  let origin: BareOrigin;
  let agentLog: string;
  let redis: Redis;
  let store: RunStore;
  let prefix: string;
  let queue: Queue;
  let forge: MemoryForge;
  let runner: Runner | undefined;
  let daemon: GitDaemon | undefined;
  let ref: IssueRef;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fh-publish-retry-"));
    origin = createBareOrigin(dir, { "README.md": "hello\n" });
    agentLog = join(dir, "agent.log");
    ref = { repo: fixtureRepo(`file://${origin.path}`), number: 12, isPr: false };
    redis = testRedis();
    prefix = uniquePrefix("publish");
    store = createRunStore(redis, prefix);
    queue = new Queue(STAGE_QUEUE, { connection: redis, prefix });
    forge = new MemoryForge();
    forge.addIssue({ number: 12, title: "Add a greeting", body: "Please greet.", labels: ["agent:develop"] });
  });
  afterEach(async () => {
    await runner?.close({ graceMs: 0 });
    runner = undefined;
    await daemon?.stop();
    daemon = undefined;
    await queue.close();
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The fixture agent's start/end events, oldest first. */
  const agentRuns = () =>
    existsSync(agentLog)
      ? readFileSync(agentLog, "utf8")
          .trim()
          .split("\n")
          .map((l) => l.split(" ")[0])
      : [];
  const logOf = async (runId: string) => (await store.readLog(runId)).map((e) => e.line).join("\n");
  const ended = (runId: string) => waitForRunEnd(store, runId, POLL);

  /** Starts a runner and enqueues the develop stage; returns the run id. */
  async function start(config: Config): Promise<string> {
    runner = gitTestRunner({ config, dir, prefix, forge, runnerId: "publish-runner" });
    await runner.start();
    return enqueueStage(queue, store, { ref, stage: "develop", trigger: { kind: "label", by: "a", deliveryId: "p1" } });
  }

  const config = (runner: Record<string, unknown> = {}, gate?: string[]) =>
    fixtureConfig(
      { FIXTURE_WRITE: "greeting.txt", FIXTURE_LOG: agentLog },
      { openPullRequest: true, runner: { retryBackoff: "50ms", ...runner }, ...(gate ? { gate } : {}) },
    );

  it("pushes again when the origin was unreachable once; the agent runs once", async () => {
    daemon = await startGitDaemon(dir);
    ref = { ...ref, repo: fixtureRepo(daemon.url("origin.git")) };
    // The daemon's git:// host is this forge's git host here (a job on any other host is refused).
    forge.gitHosts = [...forge.gitHosts, gitOrigin(daemon.url("origin.git")) ?? ""];
    // The gate holds the run until the test has taken the origin away, so the first push meets a closed port.
    const down = join(dir, "origin-down");
    const gate = [
      process.execPath,
      "-e",
      "const f=require('fs'),t=Date.now();while(!f.existsSync(process.argv[1])){if(Date.now()-t>30000)process.exit(9);Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,20)}",
      down,
    ];
    const runId = await start(config({ retryBackoff: "1s" }, gate));
    await waitFor("the agent to end", async () => agentRuns().includes("end"), POLL);
    await daemon.stop();
    writeFileSync(down, "");
    await waitFor("a publish retry", async () => (await logOf(runId)).includes("publishing failed ("), POLL);
    await daemon.start();

    const record = await ended(runId);
    expect(record.state).toBe("succeeded");
    expect(agentRuns()).toEqual(["start", "end"]);
    const branch = record.branch as string;
    expect(origin.git("show", `${branch}:greeting.txt`)).toContain(`written by ${runId}`);
    expect(await logOf(runId)).toMatch(
      new RegExp(`publishing failed \\(pushing ${branch}: network error\\); retry 1/3 in 1s`),
    );
    expect(forge.pulls).toMatchObject([{ head: branch }]);
    expect(forge.labelsOf(12)).toEqual(["agent:review"]);
  });

  it("opens the pull request after a forge 502, without running the agent again", async () => {
    forge.failNext("findOrCreatePullRequest", forgeError(502, "bad gateway"));
    const runId = await start(config());
    const record = await ended(runId);
    expect(record.state).toBe("succeeded");
    expect(agentRuns()).toEqual(["start", "end"]);
    expect(forge.pulls).toHaveLength(1);
    expect(record.prUrl).toBe(forge.pulls[0]?.url);
    const log = await logOf(runId);
    expect(log).toContain("publishing failed (opening the pull request: forge answered 502); retry 1/3 in 50ms");
    // The push was done before the failure and is not repeated.
    expect(log.match(/^pushed /gm)).toHaveLength(1);
    expect(forge.labelsOf(12)).toEqual(["agent:review"]);
  });

  it("redoes only the label steps not yet done", async () => {
    forge.failNext("addLabels", forgeError(503, "unavailable"));
    const runId = await start(config());
    expect((await ended(runId)).state).toBe("succeeded");
    const calls = forge.calls.map((c) => c.method);
    expect(calls.filter((m) => m === "findOrCreatePullRequest")).toHaveLength(1);
    expect(calls.filter((m) => m === "removeLabel")).toHaveLength(1);
    expect(calls.filter((m) => m === "addLabels")).toHaveLength(2);
    expect(forge.labelsOf(12)).toEqual(["agent:review"]);
  });

  it("removes the stage label only when it was on the issue at start (a `/run` on an unlabelled issue)", async () => {
    await forge.removeLabel(ref, "agent:develop");
    const before = forge.calls.length;
    runner = gitTestRunner({ config: config(), dir, prefix, forge, runnerId: "publish-runner" });
    await runner.start();
    const runId = await enqueueStage(queue, store, {
      ref,
      stage: "develop",
      trigger: { kind: "command", by: "a", deliveryId: "p2" },
    });
    expect((await ended(runId)).state).toBe("succeeded");
    const calls = forge.calls.slice(before).map((c) => c.method);
    // Every write waits its turn in the installation's budget: one that would change nothing is not made.
    expect(calls.filter((m) => m === "removeLabel")).toEqual([]);
    expect(forge.labelsOf(12)).toEqual(["agent:review"]);
  });

  it("fails at once on a permanent forge error, naming the branch", async () => {
    forge.failNext("findOrCreatePullRequest", forgeError(422, "Validation Failed"));
    const runId = await start(config());
    const record = await ended(runId);
    expect(record.state).toBe("failed");
    expect(agentRuns()).toEqual(["start", "end"]);
    expect(record.reason).toContain("publishing the result failed while opening the pull request: Validation Failed");
    expect(record.reason).toContain(`branch \`${record.branch}\` is pushed`);
    expect(await logOf(runId)).not.toContain("retry 1/");
    expect(forge.calls.filter((c) => c.method === "findOrCreatePullRequest")).toHaveLength(1);
    expect(forge.labelsOf(12)).toEqual(["agent:develop", "forgehand:failed"]);
  });

  it("fails at once when someone pushed to the branch meanwhile, keeping the commit in the worktree", async () => {
    // The gate waits until the test has pushed a human commit to the bot's branch on the origin.
    const pushed = join(dir, "human-pushed");
    const gate = [
      process.execPath,
      "-e",
      "const f=require('fs'),t=Date.now();while(!f.existsSync(process.argv[1])){if(Date.now()-t>30000)process.exit(9);Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,20)}",
      pushed,
    ];
    const runId = await start(config({}, gate));
    const branch = await waitFor("the branch name", async () => (await store.get(runId))?.branch, POLL);
    await waitFor("the agent to end", async () => agentRuns().includes("end"), POLL);
    const seed = join(dir, "seed");
    git(dir, "clone", "-q", origin.path, seed);
    writeFileSync(join(seed, "human.txt"), "mine\n");
    git(seed, "add", "human.txt");
    git(seed, "commit", "-q", "-m", "human");
    git(seed, "push", "-q", "origin", `HEAD:refs/heads/${branch}`);
    writeFileSync(pushed, "");

    const record = await ended(runId);
    expect(record.state).toBe("failed");
    expect(record.reason).toContain(`publishing the result failed while pushing ${branch}:`);
    expect(record.reason).toMatch(
      new RegExp(`committed locally on branch \`${branch}\` \\([0-9a-f]{40}\\) in the runner's worktree, not pushed`),
    );
    expect(record.reason).toMatch(/kept as `refs\/forgehand\/unpublished\/12\/[0-9a-f]{40}` in the runner's mirror/);
    expect(await logOf(runId)).not.toContain("retry 1/");
    expect(origin.git("show", `${branch}:human.txt`)).toBe("mine");
    expect(forge.pulls).toEqual([]);
  });

  it("gives up after the configured retries and says where the work is", async () => {
    for (let i = 0; i < 3; i++) forge.failNext("removeLabel", forgeError(502, "bad gateway"));
    const runId = await start(config({ transientRetries: 2 }));
    const record = await ended(runId);
    expect(record.state).toBe("failed");
    expect(agentRuns()).toEqual(["start", "end"]);
    expect(record.reason).toContain("failed while removing label agent:develop after 2 retries: bad gateway");
    expect(record.reason).toContain(`branch \`${record.branch}\` is pushed`);
    const log = await logOf(runId);
    expect(log).toContain("retry 1/2 in 50ms");
    expect(log).toContain("retry 2/2 in 100ms");
    expect(forge.calls.filter((c) => c.method === "removeLabel")).toHaveLength(3);
  });

  it("ends as stopped when /stop arrives while it waits to retry", async () => {
    forge.failNext("findOrCreatePullRequest", forgeError(502, "bad gateway"));
    const runId = await start(config({ retryBackoff: "5m" }));
    await waitFor("a publish retry", async () => (await logOf(runId)).includes("retry 1/3 in 5m"), POLL);
    const asked = Date.now();
    await stopRun(redis, prefix, runId, "operator");
    const record = await ended(runId);
    expect(Date.now() - asked).toBeLessThan(20_000);
    expect(record).toMatchObject({ state: "stopped", stoppedBy: "operator" });
    expect(agentRuns()).toEqual(["start", "end"]);
    expect(await logOf(runId)).toContain(
      `stopped while waiting to retry opening the pull request; branch \`${record.branch}\` is pushed`,
    );
    expect(forge.pulls).toEqual([]);
  });
});
