import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config, IssueRef } from "@forgehand/core";
import type { ForgePullRequest } from "@forgehand/forge";
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

// A real runner (real git, a file:// bare origin, the fixture agent) on a MemoryForge that records every
// call: what a PR stage asks of the forge, and what it never asks for (credentials on a fork).
const POLL = { timeoutMs: 60_000, intervalMs: 50 };

describe("stages on pull requests (runner)", () => {
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
    dir = mkdtempSync(join(tmpdir(), "fh-pr-runs-"));
    origin = createBareOrigin(dir, { "README.md": "hello\n" });
    ref = { repo: fixtureRepo(`file://${origin.path}`), number: 12, isPr: true };
    redis = testRedis();
    prefix = uniquePrefix("prruns");
    store = createRunStore(redis, prefix);
    queue = new Queue(STAGE_QUEUE, { connection: redis, prefix });
    forge = new MemoryForge();
    forge.addIssue({ number: 12, title: "A PR", isPr: true, labels: ["agent:develop"] });
  });
  afterEach(async () => {
    await runner?.close({ graceMs: 0 });
    runner = undefined;
    await queue.close();
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  const pr = (over: Partial<ForgePullRequest>): ForgePullRequest => ({
    number: 12,
    state: "open",
    merged: false,
    head: { ref: "feature", sha: origin.git("rev-parse", "main"), repoFullName: "acme/app" },
    base: { ref: "main", repoFullName: "acme/app" },
    fork: false,
    ...over,
  });
  const config = (forks?: "deny" | "read-only"): Config => {
    const base = fixtureConfig({ FIXTURE_WRITE: "greeting.txt" }, { openPullRequest: true });
    return forks ? { ...base, pullRequests: { forks } } : base;
  };
  async function run(c: Config, deliveryId = "d1"): Promise<string> {
    runner ??= gitTestRunner({ config: c, dir, prefix, forge, runnerId: "pr-runner" });
    await runner.start();
    return enqueueStage(queue, store, { ref, stage: "develop", trigger: { kind: "label", by: "a", deliveryId } });
  }
  const called = (method: string) => forge.calls.filter((c) => c.method === method);

  it("commits on a same-repo PR's head branch and opens no second PR", async () => {
    origin.git("branch", "feature", "main");
    const start = origin.git("rev-parse", "feature");
    forge.pullRequests.set(12, pr({}));
    const record = await waitForRunEnd(store, await run(config()), POLL);
    expect(record.state).toBe("succeeded");
    expect(record.branch).toBe("feature");
    expect(origin.git("rev-parse", "feature^")).toBe(start);
    expect(origin.git("show", "feature:greeting.txt")).toContain("written by");
    expect(called("findOrCreatePullRequest")).toEqual([]);
    expect(forge.pulls).toEqual([]);
    expect(called("getPullRequest").length).toBeGreaterThanOrEqual(2);
  });

  it("refuses a PR whose head is the default branch, before any credentials or git", async () => {
    forge.pullRequests.set(12, pr({ head: { ref: "main", sha: "a".repeat(40), repoFullName: "acme/app" } }));
    const record = await waitForRunEnd(store, await run(config()), POLL);
    expect(record.state).toBe("failed");
    expect(record.reason).toMatch(/head is the default branch `main`: forgehand does not push to it/);
    expect(called("gitCredentials")).toEqual([]);
  });

  it("a fork PR under the default policy: no agent, no credentials, one reply for two triggers", async () => {
    forge.pullRequests.set(12, pr({ fork: true, head: { ref: "patch", sha: "a".repeat(40), repoFullName: "m/app" } }));
    const first = await waitForRunEnd(store, await run(config()), POLL);
    expect(first).toMatchObject({ state: "stopped" });
    expect(first.reason).toMatch(/comes from a fork \(m\/app\) and pullRequests.forks is deny/);
    const second = await waitForRunEnd(store, await run(config(), "d2"), POLL);
    expect(second.state).toBe("stopped");
    const replies = called("createComment").map((c) => String(c.args[1]));
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain("pullRequests: { forks: read-only }");
    expect(called("gitCredentials")).toEqual([]);
    expect(origin.git("for-each-ref", "--format=%(refname)")).toBe("refs/heads/main");
  });

  it("a fork PR under read-only: runs on refs/pull/N/head, never asks for credentials, pushes nothing", async () => {
    const forkSha = origin.git("commit-tree", "-m", "fork", "-p", "main", `${origin.git("rev-parse", "main")}^{tree}`);
    origin.git("update-ref", "refs/pull/12/head", forkSha);
    const refsBefore = origin.git("for-each-ref");
    forge.pullRequests.set(12, pr({ fork: true, head: { ref: "patch", sha: forkSha, repoFullName: "m/app" } }));
    const record = await waitForRunEnd(store, await run(config("read-only")), POLL);
    expect(record.state).toBe("succeeded");
    expect(called("gitCredentials")).toEqual([]);
    expect(called("findOrCreatePullRequest")).toEqual([]);
    expect(origin.git("for-each-ref")).toBe(refsBefore);
    const log = (await store.readLog(record.id)).map((e) => e.line).join("\n");
    expect(log).toContain(`fork m/app, read-only (no credentials, nothing pushed) at ${forkSha}`);
  });
});
