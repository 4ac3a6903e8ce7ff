import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Config, parseConfig, silentLogger } from "@forgehand/core";
import { COMMAND_QUEUE, createRedis, STAGE_QUEUE } from "@forgehand/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { signPayload } from "../verify-signature";
import type { WebhookDeps } from "../webhook-deps";

// Test-only helpers: real payloads, signed exactly as the forges sign them.

export const GITHUB_SECRET = "It's a Secret to Everybody";
export const GITEA_SECRET = "gitea-test-secret";
export const BOT = { github: "forgehand[bot]", gitea: "forgehand-bot" };

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** Stage labels: `agent:analyse`, `agent:develop`, and `bug` (the label in the real Gitea fixture). */
export const TEST_CONFIG: Config = parseConfig(
  {
    agents: { fake: { command: ["true"] } },
    stages: [
      { name: "analyse", label: "agent:analyse", agent: "fake", prompt: "inline:a", next: "develop" },
      { name: "develop", label: "agent:develop", agent: "fake", prompt: "inline:d" },
      { name: "triage", label: "bug", agent: "fake", prompt: "inline:t" },
      { name: "emoji", label: "🤖 agent:ünïcode", agent: "fake", prompt: "inline:e" },
    ],
    commands: { allowUsers: ["trusted-bot[bot]"] },
  },
  {},
).config;

type Example = Record<string, unknown> & { action?: string };
let examples: { name: string; examples: Example[] }[] | undefined;

/** A deep copy of one payload from @octokit/webhooks-examples. */
export function githubExample(event: string, action?: string, index = 0): Example {
  if (!examples) {
    const require = createRequire(import.meta.url);
    examples = JSON.parse(
      readFileSync(require.resolve("@octokit/webhooks-examples/api.github.com/index.json"), "utf8"),
    );
  }
  const found = examples
    ?.find((e) => e.name === event)
    ?.examples.filter((e) => action === undefined || e.action === action);
  const example = found?.[index];
  if (!example) throw new Error(`[test] no GitHub example ${event}.${action} #${index}`);
  return structuredClone(example);
}

/** The exact bytes of a copied Gitea fixture. */
export function giteaFixture(name: string): Buffer {
  return readFileSync(join(repoRoot, "test/fixtures/gitea", name));
}

export interface DeliveryOptions {
  id?: string;
  secret?: string;
  /** Overrides the computed signature header value (bare hex for Gitea, `sha256=…` for GitHub); null omits it. */
  signature?: string | null;
  form?: boolean;
  contentType?: string;
  flavour?: "gitea" | "forgejo";
  eventType?: string;
  extraHeaders?: Record<string, string>;
}

/** A GitHub delivery: JSON (or form) body and `X-Hub-Signature-256` over the wire bytes. */
export function githubDelivery(event: string, payload: object | string, o: DeliveryOptions = {}): RequestInit {
  const json = typeof payload === "string" ? payload : JSON.stringify(payload);
  const body = o.form ? `payload=${encodeURIComponent(json)}` : json;
  const headers: Record<string, string> = {
    "content-type": o.contentType ?? (o.form ? "application/x-www-form-urlencoded" : "application/json"),
    "x-github-event": event,
    "x-github-delivery": o.id ?? randomUUID(),
    "user-agent": "GitHub-Hookshot/test",
    ...o.extraHeaders,
  };
  const sig = o.signature === undefined ? `sha256=${signPayload(o.secret ?? GITHUB_SECRET, body)}` : o.signature;
  if (sig !== null) headers["x-hub-signature-256"] = sig;
  return { method: "POST", headers, body };
}

/**
 * A Gitea/Forgejo delivery with every header Gitea sends (docs/FORGES.md §1.1), including the GitHub
 * copies. In form mode the signature covers the decoded JSON, not the wire body.
 */
export function giteaDelivery(event: string, json: Buffer | string, o: DeliveryOptions = {}): RequestInit {
  const text = typeof json === "string" ? json : json.toString("utf8");
  const id = o.id ?? randomUUID();
  const sig = o.signature === undefined ? signPayload(o.secret ?? GITEA_SECRET, text) : o.signature;
  const type = o.eventType ?? event;
  const headers: Record<string, string> = {
    "content-type": o.contentType ?? (o.form ? "application/x-www-form-urlencoded" : "application/json"),
    "x-gitea-event": event,
    "x-gitea-event-type": type,
    "x-gitea-delivery": id,
    "x-gogs-event": event,
    "x-gogs-delivery": id,
    "x-github-event": event,
    "x-github-event-type": type,
    "x-github-delivery": id,
    "user-agent": "Go-http-client/1.1",
    ...o.extraHeaders,
  };
  if (sig !== null) {
    headers["x-gitea-signature"] = sig;
    headers["x-gogs-signature"] = sig;
    headers["x-hub-signature-256"] = `sha256=${sig}`;
  }
  if (o.flavour === "forgejo") {
    headers["x-forgejo-event"] = event;
    headers["x-forgejo-event-type"] = type;
    headers["x-forgejo-delivery"] = id;
    if (sig !== null) headers["x-forgejo-signature"] = sig;
  }
  const body = o.form ? new URLSearchParams({ payload: text }).toString() : text;
  return { method: "POST", headers, body };
}

/** Re-serialises a Gitea payload the way Gitea does (2-space indent), for derived cases. */
export function giteaJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Waits until an ioredis client is ready (the webhook's has no offline queue, so commands before that fail). */
export async function waitReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`[test] Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Deps for one test: the webhook's own fail-fast Redis client on the given URL. */
export async function testDeps(url: string, prefix: string, over: Partial<WebhookDeps> = {}): Promise<WebhookDeps> {
  const redis = over.redis ?? createRedis(url, "webhook");
  redis.on("error", () => {});
  await waitReady(redis);
  return {
    config: TEST_CONFIG,
    redis,
    prefix,
    secrets: { github: GITHUB_SECRET, gitea: GITEA_SECRET },
    botLogins: BOT,
    logger: silentLogger,
    ...over,
  };
}

/** Reads back what a test enqueued: every job in both queues, by id. */
export class QueueProbe {
  readonly stage: Queue;
  readonly command: Queue;
  constructor(redis: Redis, prefix: string) {
    this.stage = new Queue(STAGE_QUEUE, { connection: redis, prefix });
    this.command = new Queue(COMMAND_QUEUE, { connection: redis, prefix });
    for (const q of [this.stage, this.command]) q.on("error", () => {});
  }
  /** Total jobs in any state in both queues. */
  async total(): Promise<number> {
    const [a, b] = await Promise.all([this.stage.getJobCountByTypes(), this.command.getJobCountByTypes()]);
    return a + b;
  }
  async stageJobs() {
    return this.stage.getJobs(["waiting", "delayed", "active", "completed", "failed", "paused", "prioritized"]);
  }
  async commandJobs() {
    return this.command.getJobs(["waiting", "delayed", "active", "completed", "failed", "paused", "prioritized"]);
  }
  async close() {
    // A queue closed while still initialising drops its error listeners; the version check it still
    // has in flight then fails on the test's disconnect as an unhandled rejection. Let it finish first.
    await Promise.all([this.stage.waitUntilReady(), this.command.waitUntilReady()]).catch(() => {});
    await Promise.all([this.stage.close(), this.command.close()]);
  }
}
