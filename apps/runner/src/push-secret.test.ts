// The runner end to end (real git, bare origin, the sandboxed agent): an agent that writes its own API key (from
// its configured env) into a file gets nothing pushed, and the run's reason names the file, never the value.
import { randomBytes } from "node:crypto";
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

const KEY = `foo-api-key-${randomBytes(16).toString("hex")}`;

/** An agent that writes `content` (a JS expression over `process.env`) into `file` in the worktree. */
function writingAgent(file: string, content: string): Config {
  const config = fixtureConfig({ FOO_API_KEY: KEY }, { openPullRequest: true });
  const script = `require("node:fs").writeFileSync(${JSON.stringify(file)}, ${content});`;
  const fixture = { ...config.agents.fixture!, command: [process.execPath, "-e", script] };
  return { ...config, agents: { ...config.agents, fixture } };
}

describe("runner: secrets in what the agent wrote", () => {
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
    dir = mkdtempSync(join(tmpdir(), "fh-push-secret-"));
    origin = createBareOrigin(dir, { "README.md": "hello\n" });
    ref = { repo: fixtureRepo(`file://${origin.path}`), number: 12, isPr: false };
    redis = testRedis();
    prefix = uniquePrefix("pushsecret");
    store = createRunStore(redis, prefix);
    queue = new Queue(STAGE_QUEUE, { connection: redis, prefix });
    forge = new MemoryForge();
    forge.addIssue({ number: 12, title: "Add a config", body: "Please.", labels: ["agent:develop"] });
  });
  afterEach(async () => {
    await runner?.close({ graceMs: 0 });
    await queue.close();
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(config: Config): Promise<RunRecord> {
    runner = gitTestRunner({ config, dir, prefix, forge, runnerId: "push-secret-runner" });
    await runner.start();
    const runId = await enqueueStage(queue, store, {
      ref,
      stage: "develop",
      trigger: { kind: "label", by: "a", deliveryId: "p1" },
    });
    return waitForRunEnd(store, runId, { timeoutMs: 60_000, intervalMs: 100 });
  }

  it("pushes nothing when the agent wrote FOO_API_KEY's value into a file; the reason names the file", async () => {
    const record = await run(writingAgent("config.js", "`export const key = '${process.env.FOO_API_KEY}';\\n`"));
    expect(record.state).toBe("failed");
    expect(record.reason).toContain("file `config.js`");
    expect(record.reason).toContain("nothing was pushed");
    expect(record.reason).toContain("committed locally");
    expect(JSON.stringify(record)).not.toContain(KEY);
    expect(origin.git("branch", "--list")).not.toContain("forgehand/");
    expect(forge.pulls).toEqual([]);
    const comments = JSON.stringify(forge.calls);
    expect(comments).toContain("config.js");
    expect(comments).not.toContain(KEY);
  });

  it("pushes a normal change", async () => {
    const record = await run(writingAgent("greeting.txt", '"hello\\n"'));
    expect(record.state).toBe("succeeded");
    expect(origin.git("show", `${record.branch}:greeting.txt`).trim()).toBe("hello");
  });
});
