import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, parseConfig, type RunRecord } from "@forgehand/core";
import { createRunStore, type RunStore, STAGE_QUEUE } from "@forgehand/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { testRedis, uniquePrefix } from "../../../test/helpers/redis";
import type { Runner } from "./create-runner";
import { enqueueStage } from "./enqueue-stage";
import { gitTestRunner } from "./testing/git-test-runner";
import { MemoryForge } from "./testing/memory-forge";
import { fixtureConfig, fixtureRepo } from "./testing/runner-fixture";
import { waitForRunEnd } from "./testing/wait-for-run-end";

/**
 * A job written straight into Redis (by an agent, before Redis had a password) names its own clone URL:
 * one on a host that is not the forge's must get neither a run nor the forge's token.
 */
const TOKEN = "ghs_installationTokenOfTheRealForge0042";
let attacker: Server;
let attackerUrl: string;
const requests: Array<{ auth: string }> = [];

beforeAll(async () => {
  attacker = createServer((req, res) => {
    requests.push({ auth: req.headers.authorization ?? "" });
    res.writeHead(401, { "WWW-Authenticate": 'Basic realm="give me the token"' }).end();
  });
  await new Promise<void>((r) => attacker.listen(0, "127.0.0.1", () => r()));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => attacker.close(r));
});

describe("a stage job whose clone URL is not the forge's", () => {
  let dir: string;
  let redis: Redis;
  let store: RunStore;
  let prefix: string;
  let queue: Queue;
  let forge: MemoryForge;
  let runner: Runner | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "fh-forged-"));
    redis = testRedis();
    prefix = uniquePrefix("forged");
    store = createRunStore(redis, prefix);
    queue = new Queue(STAGE_QUEUE, { connection: redis, prefix });
    forge = new MemoryForge();
    forge.gitHosts = ["https://forge.test"];
    forge.gitCredentials = async () => ({ username: "x-access-token", password: TOKEN, hosts: forge.gitHosts });
    forge.addIssue({ number: 7, title: "Forged", body: "x", labels: ["agent:develop"] });
    requests.length = 0;
  });
  afterEach(async () => {
    await runner?.close({ graceMs: 0 });
    await queue.close();
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(config: Config): Promise<RunRecord> {
    runner = gitTestRunner({ config, dir, prefix, forge, runnerId: "forged-runner" });
    await runner.start();
    const runId = await enqueueStage(queue, store, {
      ref: { repo: fixtureRepo(`${attackerUrl}/acme/app.git`), number: 7, isPr: false },
      stage: "develop",
      trigger: { kind: "label", by: "a", deliveryId: "f1" },
    });
    return waitForRunEnd(store, runId, { timeoutMs: 60_000, intervalMs: 100 });
  }

  it("fails for good before any git or credentials, and the token goes nowhere", async () => {
    const record = await run(fixtureConfig({ FIXTURE_WRITE: "x.txt" }));
    expect(record.state).toBe("failed");
    expect(record.reason).toMatch(/Refusing the job: its clone URL .* is on `http:\/\/127\.0\.0\.1:\d+`/);
    expect(record.reason).toContain("https://forge.test");
    expect(requests).toEqual([]);
    expect(forge.calls.map((c) => c.method)).not.toContain("gitCredentials");
    // The trigger checks (permission, label still on) ask the forge's own API first; no git, no credentials.
    expect(readdirSync(join(dir, "data")).includes("worktrees")).toBe(false);
    expect(JSON.stringify([record, forge.calls])).not.toContain(TOKEN);
  });

  it("runs, with the token, when the operator lists the host in git.credentialHosts", async () => {
    const base = fixtureConfig({ FIXTURE_WRITE: "x.txt" });
    const config = parseConfig({ ...configInput(base), git: { credentialHosts: [attackerUrl] } }, {}).config;
    expect(config.git.credentialHosts).toEqual([attackerUrl]);
    const record = await run(config);
    expect(record.state).toBe("failed");
    expect(record.reason).toContain("preparing the worktree failed");
    expect(requests.some((r) => r.auth.startsWith("Basic "))).toBe(true);
  });
});

/** The parsed fixture config back as input (durations in ms are accepted). */
function configInput(config: Config): Record<string, unknown> {
  const { git: _git, ...rest } = config;
  return rest as unknown as Record<string, unknown>;
}
