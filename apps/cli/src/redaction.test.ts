import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Config, type GitCredentials, type IssueRef, parseConfig, type RepoRef } from "@forgehand/core";
import { createRunStore, runLogKey, STAGE_QUEUE } from "@forgehand/queue";
import { enqueueStage } from "@forgehand/runner";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BareOrigin, createBareOrigin } from "../../../test/helpers/bare-origin";
import { testRedis, testRedisUrl, uniquePrefix } from "../../../test/helpers/redis";
import { MemoryForge, memoryForges } from "../../runner/src/testing/memory-forge";
import { fixtureRepo } from "../../runner/src/testing/runner-fixture";
import { waitForRunEnd } from "../../runner/src/testing/wait-for-run-end";
import { armRedactor } from "./arm-redactor";
import { type CliContext, createCliContext } from "./cli-context";
import { serveWebhook } from "./serve-webhook";
import { CleanupStack } from "./shutdown";
import { startRunner } from "./start-runner";

const HOSTILE = resolve(import.meta.dirname, "../../runner/fixtures/hostile-agent.mjs");

// The secrets this forgehand holds. The Gitea token is 40 hex (no pattern knows it: only its value can
// catch it); the webhook secret and the API token have no token shape either.
const ENV_SECRETS = {
  GITHUB_TOKEN: "ghp_R8xWq2Lm9Zt4Kp7Vn3Bc6Yh1Jd5Fs0Ga8Ue2",
  GITEA_TOKEN: "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
  GITHUB_WEBHOOK_SECRET: "whs-Correct-Horse-42-battery",
  FORGEHAND_API_TOKEN: "api-tok-Zq9x-Mw3v-Lp8k-0042",
};
const AGENT_KEY = "foo-agent-key-value-5150"; // agents.hostile.env.FOO_API_KEY
const REDIS_FILE_PASSWORD = "redis-file-pass-7788-xyz"; // an extra secret file (the Redis password file)
// Git credentials handed out at run time, in no shape a pattern knows (a real App token is `ghs_…`).
const MINTED = "minted-at-run-time-0f0e0d0c0b0a";
const SHAPED = `ghp_${"Q".repeat(36)}`; // a token forgehand never held: only the pattern catches it
const URL_PASSWORD = "pw-in-a-url-9090";
const MUST_HIDE = [...Object.values(ENV_SECRETS), AGENT_KEY, REDIS_FILE_PASSWORD, MINTED, SHAPED, URL_PASSWORD];
const PRINTED = [
  ...Object.values(ENV_SECRETS),
  REDIS_FILE_PASSWORD,
  MINTED,
  SHAPED,
  `redis://:${URL_PASSWORD}@10.0.0.5:6379`,
  // an `env` dump line of the runner, as /proc/<runner>/environ would give it
  Object.entries(ENV_SECRETS)
    .map(([k, v]) => `${k}=${v}`)
    .join(" "),
];

/** A forge that hands out git credentials the process never saw before (an App's installation token). */
class MintingForge extends MemoryForge {
  override async gitCredentials(repo: RepoRef): Promise<GitCredentials | null> {
    const given = await super.gitCredentials(repo);
    return { username: "x-access-token", password: MINTED, hosts: given?.hosts ?? this.gitHosts };
  }
}

function hostileConfig(): Config {
  const agent = (exit: number) => ({
    command: [process.execPath, HOSTILE],
    parser: "claude-stream-json",
    env: {
      FOO_API_KEY: AGENT_KEY,
      HOSTILE_PRINT: JSON.stringify(PRINTED),
      HOSTILE_EXIT: String(exit),
      HOSTILE_WRITE: "work.txt",
    },
  });
  return parseConfig(
    {
      agents: { hostile: agent(0), crashing: agent(3) },
      stages: [
        { name: "develop", label: "agent:develop", agent: "hostile", prompt: "inline:do it", openPullRequest: true },
        { name: "analyse", label: "agent:analyse", agent: "crashing", prompt: "inline:look" },
      ],
      runner: { killGrace: "500ms", retryBackoff: "200ms", transientRetries: 0 },
      status: { interval: "100ms" },
    },
    {},
  ).config;
}

describe("redaction wired through the CLI: a hostile agent prints every secret forgehand holds", () => {
  let dir: string;
  let origin: BareOrigin;
  let redis: Redis;
  let queue: Queue;
  let ctx: CliContext;
  let cleanup: CleanupStack;
  let forge: MintingForge;
  let port: number;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "fh-redaction-"));
    origin = createBareOrigin(dir);
    const secretFile = join(dir, "extra-secret");
    writeFileSync(secretFile, `${REDIS_FILE_PASSWORD}\n`);
    ctx = createCliContext(
      {
        PATH: process.env.PATH,
        HOME: dir,
        FORGEHAND_DATA_DIR: join(dir, "data"),
        FORGEHAND_PREFIX: uniquePrefix("redaction"),
        SHORT_TOKEN: "abc12",
        LOG_LEVEL: "debug",
        ...ENV_SECRETS,
      },
      { write: (line) => logs.push(line) },
    );
    cleanup = new CleanupStack(ctx.logger);
    forge = new MintingForge();
    // The title is forge text: it reaches the PR title, the commit message and the branch name.
    forge.addIssue({ number: 12, title: `Fix ${ENV_SECRETS.GITEA_TOKEN} ${SHAPED}`, labels: ["agent:develop"] });
    forge.addIssue({ number: 13, title: "Look at the crash", labels: ["agent:analyse"] });
    const config = hostileConfig();
    const forges = memoryForges(forge);
    const opts = { ctx, config, redisUrl: testRedisUrl(), forges, cleanup, secretFiles: [secretFile] };
    port = (await serveWebhook({ ...opts, port: 0 })).port;
    await startRunner({ ...opts, configDir: dir });
    redis = testRedis();
    queue = new Queue(STAGE_QUEUE, { connection: redis, prefix: ctx.prefix });
  }, 30_000);
  afterAll(async () => {
    await cleanup.runAll();
    await queue.close();
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  const repo = () => fixtureRepo(`file://${origin.path}`);
  const run = async (number: number, stage: string) => {
    const store = createRunStore(redis, ctx.prefix);
    const ref: IssueRef = { repo: repo(), number, isPr: false };
    const id = await enqueueStage(queue, store, {
      ref,
      stage,
      trigger: { kind: "label", by: "eve", deliveryId: stage },
    });
    return waitForRunEnd(store, id, { timeoutMs: 60_000, intervalMs: 100 });
  };
  const expectHidden = (where: string, text: string) => {
    for (const secret of MUST_HIDE) expect(text, `${where} leaks ${secret}`).not.toContain(secret);
    expect(text, `${where} shows nothing redacted (did the agent print?)`).toContain("[REDACTED]");
  };

  it("leaks nothing into the status comments, the PR, the commit, Redis, /api/runs, the SSE tail or the log", async () => {
    const [ok, failed] = [await run(12, "develop"), await run(13, "analyse")];
    expect(ok.state).toBe("succeeded");
    expect(failed.state).toBe("failed");

    // Every comment body ever sent (creates and edits) and the PR's title and body.
    const comments = forge.calls.filter((c) => c.method === "createComment" || c.method === "updateComment");
    expect(comments.length).toBeGreaterThan(1);
    expectHidden("status comments", JSON.stringify(comments));
    expect(forge.pulls).toHaveLength(1);
    expectHidden("the PR", JSON.stringify(forge.pulls));

    // What reached the origin: commit messages and branch names.
    const branch = ok.branch as string;
    expect(origin.show(branch, "work.txt")).toBe("work");
    expectHidden("commit messages and branches", `${origin.git("log", "--all", "--format=%B")}\n${origin.branches()}`);

    // Redis, as stored: the records and the run logs.
    for (const r of [ok, failed]) {
      const stored = JSON.stringify([
        await redis.hgetall(`${ctx.prefix}:run:${r.id}`),
        await redis.xrange(runLogKey(ctx.prefix, r.id), "-", "+"),
      ]);
      expectHidden(`Redis (run ${r.stage})`, stored);
      expect(stored).toContain("FOO_API_KEY=[REDACTED]");
    }

    // The runs API over HTTP: JSON and the SSE tail.
    const headers = { authorization: `Bearer ${ENV_SECRETS.FORGEHAND_API_TOKEN}` };
    const api = (path: string, more: Record<string, string> = {}) =>
      fetch(`http://127.0.0.1:${port}/api${path}`, { headers: { ...headers, ...more } }).then((r) => r.text());
    expectHidden("/api/runs/:id", await api(`/runs/${failed.id}`));
    const sse = await api(`/runs/${failed.id}/log`, { accept: "text/event-stream" });
    expect(sse).toContain("event: end");
    expectHidden("the SSE tail", sse);

    // Logger output: a line with every secret, written through the process logger.
    ctx.logger.error("agent output", { text: PRINTED.join(" "), key: AGENT_KEY });
    expectHidden("logger output", logs.join("\n"));
  }, 120_000);

  it("warns at start-up about secrets too short to redact by value, naming the variable, not the value", () => {
    const warning = logs.find((l) => l.includes("secrets too short"));
    expect(warning).toContain("SHORT_TOKEN");
    expect(warning).not.toContain("abc12");
    // Arming again (as `start` does for the webhook and the runner) does not warn twice.
    armRedactor(ctx, { config: hostileConfig() });
    expect(logs.filter((l) => l.includes("secrets too short"))).toHaveLength(1);
  });
});
