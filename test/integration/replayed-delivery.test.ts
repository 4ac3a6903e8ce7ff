import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunRecord, silentLogger } from "@forgehand/core";
import { createRunStore, runIdFor } from "@forgehand/queue";
import { afterEach, describe, expect, it } from "vitest";
import { createRunner, type Runner } from "../../apps/runner/src/create-runner";
import { MemoryForge, memoryForges } from "../../apps/runner/src/testing/memory-forge";
import { directoryWorkspaces, fixtureConfig } from "../../apps/runner/src/testing/runner-fixture";
import { waitForRunEnd } from "../../apps/runner/src/testing/wait-for-run-end";
import { createApp } from "../../apps/webhook/src/create-app";
import { githubDelivery, githubExample, testDeps } from "../../apps/webhook/src/testing/delivery-fixtures";
import { testRedis, testRedisUrl, uniquePrefix } from "../helpers/redis";

// Issue 13: GitHub signs only the body, so a captured `issues.labeled` body posted again under a new
// X-GitHub-Delivery is accepted. Once the label is gone (here: removed by the successful run), the
// replay must start nothing: the runner checks the label at run start.
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("a replayed signed delivery", () => {
  it("whose label was removed meanwhile runs no agent and ends stopped, saying why", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fh-replay-"));
    // The sandboxed agent (another uid) must be able to traverse to its worktree; mkdtemp makes 0700.
    chmodSync(dir, 0o755);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const prefix = uniquePrefix("replay");
    const log = join(dir, "agent.log");
    const config = fixtureConfig({ FIXTURE_LOG: log });
    const payload = githubExample("issues", "labeled");
    (payload.label as { name: string }).name = "agent:develop";
    const number = (payload.issue as { number: number }).number;
    const forge = new MemoryForge("github");
    // The example payload's clone URL is on github.com: this forge's git host (the workspaces are directories).
    forge.gitHosts = ["https://github.com"];
    forge.addIssue({ number, title: "Spelling", body: "Fix the typo", labels: ["agent:develop"] });

    const deps = await testDeps(testRedisUrl(), prefix, { config });
    cleanups.push(() => deps.redis.disconnect());
    const app = createApp(deps);
    const runner: Runner = createRunner({
      config,
      configDir: dir,
      redisUrl: testRedisUrl(),
      prefix,
      forges: memoryForges(forge),
      logger: silentLogger,
      dataDir: join(dir, "data"),
      env: { PATH: process.env.PATH, HOME: dir },
      timings: { leaseTtlMs: 3_000, stopPollMs: 200, lockedRetryMs: 100, progressIntervalMs: 100 },
      overrides: { workspaces: directoryWorkspaces(join(dir, "ws")) },
    });
    cleanups.push(() => runner.close({ graceMs: 0 }));
    await runner.start();
    const redis = testRedis();
    cleanups.push(() => redis.disconnect());
    const store = createRunStore(redis, prefix);
    const issue = `github:Codertocat/Hello-World#${number}`;
    const ended = (id: string): Promise<RunRecord> => waitForRunEnd(store, id, { timeoutMs: 20_000, intervalMs: 50 });

    const body = JSON.stringify(payload);
    const first = await app.request("/webhooks/github", githubDelivery("issues", body, { id: "orig-1" }));
    expect(first.status).toBe(202);
    expect((await ended(runIdFor("github", "orig-1", "develop", issue))).state).toBe("succeeded");
    expect(forge.labelsOf(number)).not.toContain("agent:develop");

    // The same signed bytes, a new delivery id: the webhook cannot tell, and accepts it.
    const replay = await app.request("/webhooks/github", githubDelivery("issues", body, { id: "replay-1" }));
    expect(replay.status).toBe(202);
    const run = await ended(runIdFor("github", "replay-1", "develop", issue));
    expect(run).toMatchObject({
      state: "stopped",
      reason: `not started: the label \`agent:develop\` is no longer on ${issue}`,
    });
    expect(run.startedAt).toBeUndefined();
    const starts = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("start"));
    expect(starts).toHaveLength(1);
  });
});
