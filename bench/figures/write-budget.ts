import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isTerminal } from "@forgehand/core";
import { createRedis, createRunStore, startRedisServer } from "@forgehand/queue";
import { type RecordedCall, startForgeEmulator } from "../../test/support/forge-emulator";
import { type BenchChild, startChild, track } from "../harness/child";
import type { Figure, FigureContext } from "../harness/figure";
import { fmt, median } from "../harness/stats";
import { FIXTURES } from "./bench-config";
import type { ServerOptions } from "./forgehand-server";
import { createBareOrigin } from "./git-origin";
import { BENCH_STAGE_LABEL, githubHeaders, labeledPayload, signGithub } from "./github-payloads";
import { maxInWindow, writeKind } from "./write-stats";

const SERVER = join(import.meta.dirname, "forgehand-server.ts");
const RUNNERS = 3;
const REPOS = 3;
// GitHub's documented secondary limits (per installation / token).
const CREATES_PER_MINUTE = 80;
const CREATES_PER_HOUR = 500;
const APP_ID = 4242;

/** One layout's outcome. */
interface Layout {
  installations: number;
  runs: number;
  drainMs: number;
  runsPerS: number;
  failed: number;
  /** Distinct end states and reasons of runs that did not succeed. */
  reasons: string[];
  writes: RecordedCall[];
  /** Per scope: max writes and max content-creating writes in any 60 s window, writes < 1 s after the previous. */
  perScope: Array<{
    scope: string;
    writes: number;
    maxPerMin: number;
    maxCreatesPerMin: number;
    closer: number;
    minGapMs: number;
    p50GapMs: number;
  }>;
  limited: number;
}

const isWrite = (c: RecordedCall) =>
  c.method !== "GET" && c.method !== "HEAD" && c.path.startsWith("/repos/") && c.scope !== undefined;

/**
 * 3 runner processes (one also serving the webhook) on one Redis against an emulated GitHub (a GitHub App with
 * installations 1–3); `runs` labeled deliveries spread over 3 repositories, each on installation 1 (`one`) or
 * on its own installation (`three`), all sent at once; measured until every run record is terminal.
 */
async function measureLayout(ctx: FigureContext, installations: 1 | 3, runs: number): Promise<Layout> {
  const dir = join(ctx.tmpDir, `wb-${installations}-${randomUUID().slice(0, 6)}`);
  mkdirSync(dir, { recursive: true });
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const redisServer = await startRedisServer({ dataDir: join(dir, "redis"), persistence: true });
  track(redisServer.child, { last: true });
  const origins = Array.from({ length: REPOS }, (_, i) => {
    const repoDir = join(dir, `repo-${i + 1}`);
    mkdirSync(repoDir);
    return { fullName: `bench-org/repo-${i + 1}`, bare: createBareOrigin(repoDir, 6) };
  });
  // The emulator serves each bare origin over smart HTTP at `<url>/<fullName>.git`, behind installation tokens.
  const emulator = await startForgeEmulator({
    flavour: "github",
    tokens: {},
    app: { id: APP_ID, publicKey, slug: "forgehand-bench", installations: [1, 2, 3] },
    secondaryLimits: { createsPerMinute: CREATES_PER_MINUTE, createsPerHour: CREATES_PER_HOUR },
    gitRepos: Object.fromEntries(origins.map((o) => [o.fullName, o.bare])),
  });
  const redis = createRedis(redisServer.url, "worker");
  redis.on("error", () => {});
  const children: Array<BenchChild<{ port: number }>> = [];
  try {
    const prefix = `fhwb-${randomUUID().slice(0, 8)}`;
    const secret = `bench-${randomUUID()}`;
    const repos = origins.map(({ fullName }, i) => {
      emulator.addRepo(fullName, { labels: [BENCH_STAGE_LABEL] });
      // The delivery's sender (GitHub's example payload) may start a stage, as a maintainer would.
      emulator.setPermission(fullName, "Codertocat", "write");
      return { fullName, cloneUrl: `${emulator.url}/${fullName}.git`, installation: installations === 1 ? 1 : i + 1 };
    });
    const jobs = Array.from({ length: runs }, (_, i) => {
      const repo = repos[i % REPOS]!;
      const number = emulator.addIssue(repo.fullName, { title: `Bench issue ${i}`, labels: [BENCH_STAGE_LABEL] });
      return { repo, number };
    });
    // Started together (start-up is not measured): each child is tracked as soon as it is up, so a failed start
    // of one still stops the others in `finally`.
    const started = await Promise.allSettled(
      Array.from({ length: RUNNERS }, async (_, r) => {
        const options: ServerOptions = {
          redisUrl: redisServer.url,
          prefix,
          secret,
          dataDir: join(dir, `data-${r}`),
          command: [process.execPath, join(FIXTURES, "exit-at-once.mjs")],
          agentEnv: {},
          killGraceMs: 2_000,
          issues: 0,
          fullName: repos[0]!.fullName,
          cloneUrl: repos[0]!.cloneUrl,
          sandbox: false,
          github: { apiUrl: emulator.apiUrl, appId: APP_ID, privateKey, botLogin: "forgehand-bench[bot]" },
          webhook: r === 0,
          concurrency: 4,
        };
        const c = await startChild<{ port: number }>(SERVER, [], {
          env: { BENCH_SERVER_OPTIONS: JSON.stringify(options) },
        });
        children[r] = c;
        return c;
      }),
    );
    const failedStart = started.find((x): x is PromiseRejectedResult => x.status === "rejected");
    if (failedStart) throw failedStart.reason;
    const url = `http://127.0.0.1:${children[0]!.ready.port}/webhooks/github`;
    const store = createRunStore(redis, prefix);
    const t0 = Date.now();
    const runIds = await Promise.all(
      jobs.map(async ({ repo, number }) => {
        const p = JSON.parse(labeledPayload({ number, fullName: repo.fullName, cloneUrl: repo.cloneUrl, bytes: 0 }));
        p.installation = { id: repo.installation };
        const body = JSON.stringify(p);
        const res = await fetch(url, {
          method: "POST",
          headers: githubHeaders("issues", signGithub(secret, body)),
          body,
        });
        const json = (await res.json()) as { jobs?: string[] };
        const id = json.jobs?.[0];
        if (res.status !== 202 || !id)
          throw new Error(`[bench] delivery not enqueued: ${res.status} ${JSON.stringify(json)}`);
        return id;
      }),
    );
    // Bounded: at the documented 1 write/s per installation a run of ~10 writes takes ~10 s of one budget.
    const deadline = t0 + 60_000 + runs * 15_000;
    const pending = new Set(runIds);
    let failed = 0;
    const reasons = new Set<string>();
    while (pending.size > 0) {
      for (const id of [...pending]) {
        const record = await store.get(id);
        if (record && isTerminal(record.state)) {
          pending.delete(id);
          if (record.state !== "succeeded") {
            failed++;
            reasons.add(`${record.state}: ${record.reason ?? ""}`.slice(0, 200));
          }
        }
      }
      if (Date.now() > deadline) throw new Error(`[bench] ${pending.size} of ${runs} runs not terminal in time`);
      if (children.some((c) => c.child.exitCode !== null)) throw new Error("[bench] a runner process exited");
      if (pending.size > 0) await sleep(50);
    }
    const drainMs = Date.now() - t0;
    const writes = emulator.calls.filter(isWrite);
    const scopes = [...new Set(writes.map((w) => w.scope!))].sort();
    const perScope = scopes.map((scope) => {
      const mine = writes.filter((w) => w.scope === scope && w.status !== 403).map((w) => w.at);
      const created = writes
        .filter((w) => w.scope === scope && w.status !== 403 && writeKind(w).creates)
        .map((w) => w.at);
      const sorted = [...mine].sort((a, b) => a - b);
      const gaps = sorted.slice(1).map((t, i) => t - sorted[i]!);
      const closer = gaps.filter((g) => g < 1_000).length;
      return {
        scope,
        writes: mine.length,
        maxPerMin: maxInWindow(mine, 60_000),
        maxCreatesPerMin: maxInWindow(created, 60_000),
        closer,
        minGapMs: gaps.length ? Math.min(...gaps) : Number.NaN,
        p50GapMs: gaps.length ? median(gaps) : Number.NaN,
      };
    });
    return {
      installations,
      runs,
      drainMs,
      runsPerS: runs / (drainMs / 1000),
      failed,
      reasons: [...reasons],
      writes,
      perScope,
      limited: writes.filter((w) => w.status === 403 || w.status === 429).length,
    };
  } finally {
    await Promise.all(children.filter(Boolean).map((c) => c.stop(15_000)));
    redis.disconnect();
    await emulator.close();
    await redisServer.stop();
  }
}

/** Figure 7: runs per second with 3 runners on one installation and on three, and writes per installation. */
export const writeBudgetFigure: Figure = {
  id: "write-budget",
  title: "7. Forge write budget",
  method: `${RUNNERS} runner processes (the bench's forgehand-server child: createRunner with the GitHub clients of a GitHub App, one per installation, every write through the write budget shared in Redis — packages/queue forge-write-budget.ts; one of them also serves the webhook) on one redis-server (AOF) against the forge emulator (test/support/forge-emulator) playing GitHub: it records every request (method, path, installation, time) and answers a content-creating request beyond ${CREATES_PER_MINUTE} in any minute or ${CREATES_PER_HOUR} in any hour per installation with 403 "secondary rate limit" + Retry-After, GitHub's documented secondary limits (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api; "make requests serially" with ≥ 1 s between mutating requests is advice, counted here as writes < 1 s after the previous one of the same installation). Agent: a fixture that exits at once (unsandboxed: the sandbox is not what is measured). All deliveries are sent at once over ${REPOS} repositories, which are on ONE installation or each on its OWN; runs/s = runs / (first delivery sent → last run record terminal); writes/min = the most writes of one installation in any 60 s window`,
  target: `every installation within GitHub's documented limits (≤ ${CREATES_PER_MINUTE} content-creating writes a minute, no 403/429); three installations faster than one`,
  async run(ctx) {
    const runs = ctx.size === "smoke" ? 3 : 30;
    ctx.note(`write budget: ${runs} runs on one installation…`);
    // The smoke run (a check that the figure works, not a measurement) runs both layouts at once to stay short.
    const [one, three] =
      ctx.size === "smoke"
        ? await Promise.all([measureLayout(ctx, 1, runs), measureLayout(ctx, 3, runs)])
        : [await measureLayout(ctx, 1, runs), await measureLayout(ctx, 3, runs)];
    ctx.note(`one installation: ${fmt(one.runsPerS)} runs/s, three: ${fmt(three.runsPerS)} runs/s`);
    const layouts = [one, three];
    const kinds = new Map<string, number>();
    for (const w of one.writes) {
      if (w.status === 403) continue;
      const k = writeKind(w).kind;
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    const perRun = [...kinds.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => ({ kind: k, perRun: n / one.runs }));
    const writesPerRun = perRun.reduce((s, k) => s + k.perRun, 0);
    const maxCreates = Math.max(...layouts.flatMap((l) => l.perScope.map((s) => s.maxCreatesPerMin)));
    const maxWrites = Math.max(...layouts.flatMap((l) => l.perScope.map((s) => s.maxPerMin)));
    const limited = one.limited + three.limited;
    const failed = one.failed + three.failed;
    const within = maxCreates <= CREATES_PER_MINUTE && limited === 0;
    const met = within && failed === 0 && three.runsPerS > one.runsPerS;
    return {
      method: `${writeBudgetFigure.method}; ${runs} runs per layout. The machine is shared with other engineers' work (load ${ctx.machine.load1} at start, ${ctx.machine.cores} cores)`,
      status: met ? "met" : "missed",
      headline: `${fmt(one.runsPerS)} runs/s on one installation, ${fmt(three.runsPerS)} on three (${runs} runs, 3 runners); max ${maxWrites} writes / ${maxCreates} content-creating per installation in any minute, ${limited} answered 403/429; ${fmt(writesPerRun)} forge writes per short run`,
      reason: met
        ? undefined
        : `${failed} runs failed (${[...one.reasons, ...three.reasons].join("; ")}), ${limited} secondary-limit answers, max ${maxCreates} creates/min; three ${fmt(three.runsPerS)} vs one ${fmt(one.runsPerS)} runs/s`,
      metrics: {
        oneInstallationRunsPerS: one.runsPerS,
        threeInstallationsRunsPerS: three.runsPerS,
        maxWritesPerMinPerInstallation: maxWrites,
        maxCreatesPerMinPerInstallation: maxCreates,
        writesPerShortRun: writesPerRun,
        oneInstallationDrainMs: one.drainMs,
        threeInstallationsDrainMs: three.drainMs,
      },
      details: [
        "| layout | runs | failed | drain s | runs/s | installation | writes | max writes in 60 s | max creates in 60 s | writes < 1 s after the previous | gap between writes, min / p50 ms | 403/429 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...layouts.flatMap((l) =>
          l.perScope.map(
            (s) =>
              `| ${l.installations === 1 ? "one installation" : "three installations"} | ${l.runs} | ${l.failed} | ${fmt(l.drainMs / 1000)} | ${fmt(l.runsPerS)} | ${s.scope} | ${s.writes} | ${s.maxPerMin} | ${s.maxCreatesPerMin} | ${s.closer} | ${fmt(s.minGapMs)} / ${fmt(s.p50GapMs)} | ${l.limited} |`,
          ),
        ),
        "",
        "Forge writes per short run (one-installation layout, by kind):",
        "",
        "| kind | writes per run |",
        "| --- | --- |",
        ...perRun.map((k) => `| ${k.kind} | ${fmt(k.perRun)} |`),
      ],
    };
  },
};
