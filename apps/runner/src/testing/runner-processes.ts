import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRunStore, STAGE_QUEUE } from "@forgehand/queue";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { uniquePrefix } from "../../../../test/helpers/redis";
import { waitFor } from "../../../../test/helpers/wait-for";

const ROOT = resolve(import.meta.dirname, "../../../..");
const SCRIPT = resolve(import.meta.dirname, "../../fixtures/runner-process.ts");

/** One line of the fixture agent's FIXTURE_LOG. */
export interface AgentEvent {
  kind: string;
  runId: string;
  pid: number;
  at: number;
}

/** The fixture agent's log: `start|end <runId> <pid> <ms>` lines. */
export function agentEvents(file: string): AgentEvent[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {}
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [kind, runId, pid, at] = l.split(" ");
      return { kind: kind as string, runId: runId as string, pid: Number(pid), at: Number(at) };
    });
}

export interface RunnerProcessOptions {
  id: string;
  redisUrl: string;
  prefix: string;
  dataDir: string;
  agentEnv: Record<string, string>;
  /** Partial RunnerTimings; {} runs the production defaults. */
  timings: object;
  concurrency?: number;
  /** More FH_* variables (FH_HOST, FH_BLOCK_MS). */
  env?: Record<string, string>;
}

/** A runner child process (fixtures/runner-process.ts) with its output collected; resolves once it is ready. */
export async function spawnRunnerProcess(
  opts: RunnerProcessOptions,
  children: ChildProcess[],
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", SCRIPT], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FH_REDIS_URL: opts.redisUrl,
      FH_PREFIX: opts.prefix,
      FH_DATA_DIR: opts.dataDir,
      FH_RUNNER_ID: opts.id,
      FH_AGENT_ENV: JSON.stringify(opts.agentEnv),
      FH_TIMINGS: JSON.stringify(opts.timings),
      FH_CONCURRENCY: String(opts.concurrency ?? 2),
      ...opts.env,
    },
  });
  children.push(child);
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  // Waits for the ready line or the child's exit: a runner that dies at start fails the test at once.
  await waitFor(`runner ${opts.id} ready`, () => out.includes("ready") || child.exitCode !== null, {
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  if (!out.includes("ready")) throw new Error(`[test] runner ${opts.id} exited before ready:\n${out}`);
  return { child, output: () => out };
}

/**
 * What a test of runner processes shares with them: a temp dir (the agents' log in it), a key prefix, a Redis
 * connection, the run store and the stage queue. Each is undone by `cleanups` (run in reverse by the test).
 */
export function runnerProcessTestbed(redisUrl: string, name: string, cleanups: (() => Promise<unknown> | unknown)[]) {
  const dir = mkdtempSync(join(tmpdir(), `fh-${name}-`));
  const prefix = uniquePrefix(name);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on("error", () => {});
  const store = createRunStore(redis, prefix);
  const queue = new Queue(STAGE_QUEUE, { connection: redis, prefix });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
  cleanups.push(() => queue.close());
  return { dir, prefix, redis, store, queue, log: join(dir, "agents.log") };
}
