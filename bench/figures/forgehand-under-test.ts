import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isTerminal, type RunRecord } from "@forgehand/core";
import { createRedis, createRunStore, type RunStore, startRedisServer } from "@forgehand/queue";
import type { Redis } from "ioredis";
import { type BenchChild, startChild, track } from "../harness/child";
import type { FigureContext } from "../harness/figure";
import type { ServerOptions } from "./forgehand-server";
import { createBareOrigin } from "./git-origin";
import { commentPayload, githubHeaders, labeledPayload, signGithub } from "./github-payloads";

const SERVER = join(import.meta.dirname, "forgehand-server.ts");
const FULL_NAME = "bench-org/bench-repo";

/** What a fixture wrote when it started. */
export interface FixtureStart {
  startedAt: number;
  pid: number;
  pids?: number[];
}

/** forgehand (webhook + runner in one child process) on a private Redis, with helpers to drive it. */
export interface ForgehandUnderTest {
  outDir: string;
  store: RunStore;
  /** Sends a signed `issues.labeled` delivery; resolves with the enqueued run id. */
  label(issue: number): Promise<string>;
  /** Sends a signed `issue_comment.created` delivery with `text`; resolves with the HTTP status. */
  comment(issue: number, text: string): Promise<number>;
  /** Polls (every `pollMs`) for the fixture's start file of a run. */
  waitForStart(runId: string, timeoutMs?: number): Promise<FixtureStart>;
  /** Polls the run store until the run is terminal; resolves with the record and when it was seen. */
  waitForTerminal(runId: string, timeoutMs?: number): Promise<{ record: RunRecord; seenAt: number }>;
  close(): Promise<void>;
}

/**
 * Starts a private redis-server (AOF on, as `forgehand start` embeds it), a bare origin and the
 * forgehand child. `command` is the agent's argv; the agent env gets BENCH_OUT_DIR for start files.
 */
export async function startForgehand(
  ctx: FigureContext,
  options: {
    command: string[];
    agentEnv?: Record<string, string>;
    killGraceMs: number;
    issues: number;
    /** `false`: the agent runs unsandboxed. @defaultValue true (as in production) */
    sandbox?: boolean;
  },
): Promise<ForgehandUnderTest> {
  const dir = join(ctx.tmpDir, `fh-${randomUUID().slice(0, 6)}`);
  const outDir = join(dir, "out");
  mkdirSync(outDir, { recursive: true });
  // The sandboxed agent runs as forgehand-agent under a root runner: it must be able to write its start file.
  if (process.getuid?.() === 0) chmodSync(outDir, 0o777);
  const redisServer = await startRedisServer({ dataDir: join(dir, "redis"), persistence: true });
  track(redisServer.child, { last: true });
  let redis: Redis | undefined;
  let child: BenchChild<{ port: number }> | undefined;
  try {
    const cloneUrl = createBareOrigin(dir);
    const secret = `bench-${randomUUID()}`;
    const prefix = `fhbench-${randomUUID().slice(0, 8)}`;
    const serverOptions: ServerOptions = {
      redisUrl: redisServer.url,
      prefix,
      secret,
      dataDir: join(dir, "data"),
      command: options.command,
      agentEnv: { BENCH_OUT_DIR: outDir, ...options.agentEnv },
      killGraceMs: options.killGraceMs,
      issues: options.issues,
      fullName: FULL_NAME,
      cloneUrl,
      ...(options.sandbox === false ? { sandbox: false } : {}),
    };
    child = await startChild<{ port: number }>(SERVER, [], {
      env: { BENCH_SERVER_OPTIONS: JSON.stringify(serverOptions) },
    });
    const c = child;
    redis = createRedis(redisServer.url, "worker");
    // Reconnect noise when redis-server is stopped at the end (or on interrupt) says nothing useful.
    redis.on("error", () => {});
    const store = createRunStore(redis, prefix);
    const url = `http://127.0.0.1:${child.ready.port}/webhooks/github`;
    const post = async (event: string, body: string) => {
      const res = await fetch(url, { method: "POST", headers: githubHeaders(event, signGithub(secret, body)), body });
      return { status: res.status, json: (await res.json()) as { jobs?: string[]; ignored?: string; error?: string } };
    };
    return {
      outDir,
      store,
      async label(issue) {
        const res = await post("issues", labeledPayload({ number: issue, cloneUrl, fullName: FULL_NAME }));
        const runId = res.json.jobs?.[0];
        if (res.status !== 202 || !runId)
          throw new Error(
            `[bench] label delivery for #${issue} was not enqueued: ${res.status} ${JSON.stringify(res.json)}`,
          );
        return runId;
      },
      async comment(issue, text) {
        const res = await post("issue_comment", commentPayload({ number: issue, text, cloneUrl, fullName: FULL_NAME }));
        if (res.status >= 300)
          throw new Error(`[bench] comment delivery for #${issue} failed: ${res.status} ${JSON.stringify(res.json)}`);
        return res.status;
      },
      async waitForStart(runId, timeoutMs = 30_000) {
        const file = join(outDir, `${runId}.start`);
        const deadline = Date.now() + timeoutMs;
        for (let i = 0; ; i++) {
          if (existsSync(file)) {
            const text = readFileSync(file, "utf8");
            if (text) return withHostPids(JSON.parse(text) as FixtureStart, runId);
          }
          // Every ~100 polls, look at the record: a run that ended without starting the agent fails at once.
          const record = i % 100 === 99 || Date.now() > deadline ? await store.get(runId) : undefined;
          if ((record && isTerminal(record.state)) || Date.now() > deadline) {
            const why = record && isTerminal(record.state) ? "ended before its agent started" : "did not start in time";
            throw new Error(
              `[bench] run ${runId} ${why} (${timeoutMs} ms bound; run: ${record?.state ?? "no record"} ${record?.reason ?? ""})`,
            );
          }
          if (c.child.exitCode !== null) throw new Error("[bench] the forgehand child exited");
          await sleep(1);
        }
      },
      async waitForTerminal(runId, timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const record = await store.get(runId);
          if (record && isTerminal(record.state)) return { record, seenAt: Date.now() };
          if (Date.now() > deadline)
            throw new Error(
              `[bench] run ${runId} not terminal within ${timeoutMs} ms (state ${record?.state ?? "none"})`,
            );
          await sleep(2);
        }
      },
      async close() {
        await c.stop(15_000);
        redis?.disconnect();
        await redisServer.stop();
      },
    };
  } catch (error) {
    await child?.stop();
    redis?.disconnect();
    await redisServer.stop();
    throw error;
  }
}

/**
 * A sandboxed fixture records the pids of its own pid namespace; what a stop must kill are the host processes.
 * They are found by the run id in their environment (the agent and its grandchild inherit it).
 */
function withHostPids(start: FixtureStart, runId: string): FixtureStart {
  const needle = `FORGEHAND_RUN_ID=${runId}\0`;
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, "utf8");
      if (environ.startsWith(needle) || environ.includes(`\0${needle}`)) pids.push(Number(name));
    } catch {}
  }
  if (pids.length === 0) return start;
  return { ...start, pid: pids[0]!, ...(start.pids ? { pids } : {}) };
}
