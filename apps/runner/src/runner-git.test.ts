import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config, IssueRef, RunRecord } from "@forgehand/core";
import { createRunStore, type RunStore, STAGE_QUEUE } from "@forgehand/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BareOrigin, createBareOrigin } from "../../../test/helpers/bare-origin";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import type { Runner } from "./create-runner";
import { enqueueStage } from "./enqueue-stage";
import { gitTestRunner } from "./testing/git-test-runner";
import { MemoryForge } from "./testing/memory-forge";
import { fixtureConfig, fixtureRepo } from "./testing/runner-fixture";
import { waitForRunEnd } from "./testing/wait-for-run-end";

describe("runner with real git (bare origin)", () => {
  let dir: string;
  let origin: BareOrigin;
  let redis: Redis;
  let store: RunStore;
  let prefix: string;
  let queue: Queue;
  let forge: MemoryForge;
  let runner: Runner | undefined;
  let ref: IssueRef;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fh-runner-git-"));
    origin = createBareOrigin(dir, { "README.md": "hello\n" });
    ref = { repo: fixtureRepo(`file://${origin.path}`), number: 12, isPr: false };
    redis = testRedis();
    prefix = uniquePrefix("rgit");
    store = createRunStore(redis, prefix);
    queue = new Queue(STAGE_QUEUE, { connection: redis, prefix });
    forge = new MemoryForge();
    forge.addIssue({ number: 12, title: "Add a greeting", body: "Please greet.", labels: ["agent:develop"] });
  });
  afterEach(async () => {
    await runner?.close({ graceMs: 0 });
    await queue.close();
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(config: Config): Promise<RunRecord> {
    runner = gitTestRunner({ config, dir, prefix, forge, runnerId: "git-runner" });
    await runner.start();
    const runId = await enqueueStage(queue, store, {
      ref,
      stage: "develop",
      trigger: { kind: "label", by: "a", deliveryId: "g1" },
    });
    return waitForRunEnd(store, runId, { timeoutMs: 60_000, intervalMs: 100 });
  }

  it("fails the stage when the gate fails: nothing pushed, no PR, forgehand:failed", async () => {
    const gate = [process.execPath, "-e", "console.log('3 tests failed'); process.exit(4)"];
    const record = await run(fixtureConfig({ FIXTURE_WRITE: "greeting.txt" }, { gate, openPullRequest: true }));
    expect(record.state).toBe("failed");
    expect(record.reason).toContain("exit 4");
    expect(record.reason).toContain("3 tests failed");
    expect(forge.labelsOf(12)).toEqual(["agent:develop", "forgehand:failed"]);
    expect(forge.pulls).toEqual([]);
    expect(origin.git("branch", "--list")).not.toContain("forgehand/");
  });

  it("pushes the branch to the bare origin and requests a PR when the gate passes", async () => {
    const gate = [process.execPath, "-e", "require('fs').accessSync('greeting.txt')"];
    const record = await run(fixtureConfig({ FIXTURE_WRITE: "greeting.txt" }, { gate, openPullRequest: true }));
    expect(record.state).toBe("succeeded");
    const branch = record.branch as string;
    expect(branch).toMatch(/^forgehand\/12-/);
    const content = origin.git("show", `${branch}:greeting.txt`);
    expect(content).toContain(`written by ${record.id}`);
    expect(content).toContain("Please greet.");
    expect(forge.pulls).toMatchObject([{ head: branch, base: "main", title: "Add a greeting" }]);
    expect(record.prUrl).toBe(forge.pulls[0]?.url);
    expect(forge.labelsOf(12)).toEqual(["agent:review"]);
  });
});
