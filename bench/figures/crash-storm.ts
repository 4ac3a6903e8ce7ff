import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { issueKey, isTerminal, type RunRecord } from "@forgehand/core";
import {
  COMMAND_QUEUE,
  createRedis,
  createRunStore,
  type RedisServerHandle,
  runIdFor,
  STAGE_QUEUE,
  startRedisServer,
} from "@forgehand/queue";
import { Queue } from "bullmq";
import { startForgeEmulator } from "../../test/support/forge-emulator";
import { type BenchChild, startChild, track } from "../harness/child";
import type { Figure, FigureContext, FigureOutcome } from "../harness/figure";
import { fmt, median } from "../harness/stats";
import { FIXTURES } from "./bench-config";
import type { ServerOptions } from "./forgehand-server";
import { createBareOrigin } from "./git-origin";
import { BENCH_STAGE_LABEL, githubHeaders, signGithub } from "./github-payloads";
import { finishedAndRerun, overlaps, processAlive, StormLog } from "./storm-events";
import { writeKind } from "./write-stats";

const SERVER = join(import.meta.dirname, "forgehand-server.ts");
const RUNNERS = 3;
const APP_ID = 4343;
const FULL_NAME = "storm-org/app";
/** The one stage of benchConfig. */
const STAGE = "analyse";

/** A storm's shape. */
interface StormShape {
  deliveries: number;
  issues: number;
  /** Deliveries are sent evenly over this long. */
  spreadMs: number;
  kills: number;
  redisRestarts: number;
  /** The fixture agent works this long on average (uniform in ½–1½ ×). */
  agentMs: number;
  /** Drain target: first delivery → every accepted run ended and the queue empty. */
  drainTargetMs: number;
  /** Every killed runner's run back (agent started again, or publishing finished) within this. */
  backTargetMs: number;
  /** The watch ends here whatever happened (what has not ended by then is reported stuck). */
  boundMs: number;
}

const SHAPES: Record<FigureContext["size"], StormShape> = {
  full: {
    deliveries: 300,
    issues: 20,
    spreadMs: 60_000,
    kills: 8,
    redisRestarts: 2,
    agentMs: 2_000,
    drainTargetMs: 240_000,
    backTargetMs: 10_000,
    boundMs: 300_000,
  },
  smoke: {
    deliveries: 16,
    issues: 4,
    spreadMs: 4_000,
    kills: 1,
    redisRestarts: 1,
    agentMs: 600,
    drainTargetMs: 30_000,
    backTargetMs: 10_000,
    // The smoke test runs every figure at once within 60 s.
    boundMs: 35_000,
  },
};

/** One accepted delivery: when, for which issue, and the runs it enqueued. */
interface Accepted {
  issue: number;
  at: number;
  /** The runs it asked for (the id forgehand derives from the delivery id, stage and issue). */
  jobs: string[];
  /** It came back `duplicate` after a retry: the first try was committed but its answer was lost. */
  duplicate: boolean;
}

/** One SIGKILL of a runner process, and what it had in hand. */
interface Kill {
  at: number;
  runner: string;
  /** Runs whose agent was alive in the killed runner. */
  agentRuns: string[];
  /** Runs whose agent had finished in the killed runner, not seen ended at the kill (publishing, or just ended). */
  publishingRuns: string[];
  restartMs?: number;
}

const onlyRunner = (slot: number, gen: number) => `r${slot}g${gen}`;

/**
 * 300 signed deliveries over 20 issues to a webhook-only process, 3 runner-only processes on one redis-server
 * (AOF) against the forge emulator playing GitHub (one installation, every write through the shared budget);
 * meanwhile runners are SIGKILLed (each restarted at once on its own data dir) and Redis is restarted on its
 * port and data dir. Everything is bounded: a storm that does not drain is reported, never waited on forever.
 */
async function storm(ctx: FigureContext, shape: StormShape) {
  const dir = join(ctx.tmpDir, `storm-${randomUUID().slice(0, 6)}`);
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const redisDir = join(dir, "redis");
  let redisServer: RedisServerHandle = await startRedisServer({ dataDir: redisDir, persistence: true });
  track(redisServer.child, { last: true });
  const redisPort = redisServer.port;
  const repoDir = join(dir, "origin");
  mkdirSync(repoDir);
  const bare = createBareOrigin(repoDir, 6);
  const emulator = await startForgeEmulator({
    flavour: "github",
    tokens: {},
    app: { id: APP_ID, publicKey, slug: "forgehand-storm", installations: [1] },
    secondaryLimits: { createsPerMinute: 80, createsPerHour: 500 },
    gitRepos: { [FULL_NAME]: bare },
  });
  emulator.addRepo(FULL_NAME, { labels: [BENCH_STAGE_LABEL] });
  emulator.setPermission(FULL_NAME, "Codertocat", "write");
  const cloneUrl = `${emulator.url}/${FULL_NAME}.git`;
  const issues = Array.from({ length: shape.issues }, (_, i) =>
    emulator.addIssue(FULL_NAME, { title: `Storm issue ${i + 1}` }),
  );
  const redis = createRedis(redisServer.url, "worker");
  redis.on("error", () => {});
  const prefix = `fhst-${randomUUID().slice(0, 8)}`;
  const runStore = createRunStore(redis, prefix);
  // Drained means both queues empty: a `/run` delivery is a command job that enqueues the stage job.
  const queues = [STAGE_QUEUE, COMMAND_QUEUE].map((name) => new Queue(name, { connection: redis, prefix }));
  for (const q of queues) q.on("error", () => {});
  const secret = `storm-${randomUUID()}`;
  const logFile = join(dir, "agents.log");
  const log = new StormLog(logFile);
  const options = (label: string, slot: number | "webhook"): ServerOptions => ({
    redisUrl: redisServer.url,
    prefix,
    secret,
    dataDir: join(dir, `data-${slot}`),
    command: [process.execPath, join(FIXTURES, "storm-agent.mjs")],
    agentEnv: { BENCH_STORM_LOG: logFile, BENCH_RUNNER: label, BENCH_AGENT_MS: String(shape.agentMs) },
    killGraceMs: 2_000,
    issues: 0,
    fullName: FULL_NAME,
    cloneUrl,
    sandbox: false,
    github: { apiUrl: emulator.apiUrl, appId: APP_ID, privateKey, botLogin: "forgehand-storm[bot]" },
    webhook: slot === "webhook",
    runner: slot !== "webhook",
    concurrency: 4,
  });
  const start = (label: string, slot: number | "webhook") =>
    startChild<{ port: number }>(SERVER, [], { env: { BENCH_SERVER_OPTIONS: JSON.stringify(options(label, slot)) } });
  const everyChild: Array<BenchChild<{ port: number }>> = [];
  const startTracked = async (label: string, slot: number | "webhook") => {
    const c = await start(label, slot);
    everyChild.push(c);
    // BENCH_DEBUG=1 (the children then log at debug level): each child's log kept in BENCH_STORM_LOGS/<label>.log.
    const logs = process.env.BENCH_STORM_LOGS;
    if (logs) c.child.stderr?.pipe(createWriteStream(join(logs, `${label}.log`)));
    return c;
  };
  try {
    const webhook = await startTracked("webhook", "webhook");
    const generations = Array.from({ length: RUNNERS }, () => 0);
    const runners: Array<BenchChild<{ port: number }> | undefined> = await Promise.all(
      Array.from({ length: RUNNERS }, (_, slot) => startTracked(onlyRunner(slot, 0), slot)),
    );
    const url = `http://127.0.0.1:${webhook.ready.port}/webhooks/github`;

    // --- the storm -----------------------------------------------------------------------------------------
    const t0 = Date.now();
    const accepted: Accepted[] = [];
    const unaccepted: string[] = [];
    let refusedTries = 0;
    const acceptLatency: number[] = [];
    const send = async (i: number) => {
      await sleep(Math.max(0, t0 + (i * shape.spreadMs) / shape.deliveries - Date.now()));
      const issue = issues[i % issues.length]!;
      // A person types `/run analyse` on the issue: the emulator stores the comment (the run checks at start that
      // it still exists) and hands back GitHub's delivery, which the bench sends itself. `/run` rather than the
      // label: a label already on an issue fires no second `labeled`, a comment can be repeated by anyone.
      const { delivery } = emulator.commentAsUser(FULL_NAME, issue, "Codertocat", `/run ${STAGE}`);
      const body = JSON.stringify({ ...(delivery.payload as object), installation: { id: 1 } });
      // Retried with the same delivery id until taken, as GitHub's redelivery would: a 503 while Redis restarts
      // is forgehand saying "not taken, send again", and must never mean a lost trigger.
      const deliveryId = delivery.id;
      // The delivery enqueues a command job; the run it asks for has the id forgehand derives from the delivery.
      const run = runIdFor(
        "github",
        deliveryId,
        STAGE,
        issueKey({ repo: { forge: "github", fullName: FULL_NAME }, number: issue }),
      );
      const sentAt = Date.now();
      const giveUp = sentAt + 60_000;
      let tried = false;
      for (;;) {
        const res = await fetch(url, {
          method: "POST",
          headers: githubHeaders("issue_comment", signGithub(secret, body), deliveryId),
          body,
        }).catch(() => undefined);
        const json = ((await res?.json().catch(() => ({}))) ?? {}) as { jobs?: string[]; duplicate?: boolean };
        if (res?.status === 202 && json.jobs?.length) {
          accepted.push({ issue, at: Date.now(), jobs: [run], duplicate: false });
          acceptLatency.push(Date.now() - sentAt);
          return;
        }
        if (res?.status === 200 && json.duplicate && tried) {
          accepted.push({ issue, at: Date.now(), jobs: [run], duplicate: true });
          return;
        }
        tried = true;
        refusedTries++;
        if (Date.now() > giveUp) {
          unaccepted.push(`${deliveryId}: ${res?.status ?? "no answer"} ${JSON.stringify(json).slice(0, 120)}`);
          return;
        }
        await sleep(250);
      }
    };
    const sending = Promise.all(Array.from({ length: shape.deliveries }, (_, i) => send(i)));

    // Chaos: kills spread over the storm, Redis restarts between them; each at a planned time.
    const kills: Kill[] = [];
    const redisDowntimes: number[] = [];
    const runEnds = new Map<string, number>();
    const killAt = Array.from({ length: shape.kills }, (_, k) => t0 + ((k + 0.5) * shape.spreadMs) / shape.kills);
    const redisAt = Array.from(
      { length: shape.redisRestarts },
      (_, k) => t0 + ((k + 1) * shape.spreadMs) / (shape.redisRestarts + 1) + 1_500,
    );
    const restarting: Promise<unknown>[] = [];
    // The runner holding the most runs (agents alive, or finished and publishing) is killed; a planned kill waits
    // up to 4 s for a runner that holds any, so the kills land on work in hand rather than on idle runners.
    const inHand = (label: string) => {
      const mine = [...log.agents.values()].filter((a) => a.runner === label);
      const agentRuns = [
        ...new Set(mine.filter((a) => a.endAt === undefined && a.goneAt === undefined).map((a) => a.runId)),
      ];
      const publishingRuns = [
        ...new Set(mine.filter((a) => a.endAt !== undefined && !runEnds.has(a.runId)).map((a) => a.runId)),
      ].filter((r) => !agentRuns.includes(r));
      return { agentRuns, publishingRuns };
    };
    const killOne = async (force: boolean): Promise<boolean> => {
      log.poll();
      const busiest = runners
        .map((c, slot) => ({ slot, c, label: onlyRunner(slot, generations[slot]!) }))
        .filter((x) => x.c)
        .map((x) => ({ ...x, held: inHand(x.label) }))
        .map((x) => ({ ...x, n: x.held.agentRuns.length + x.held.publishingRuns.length }))
        .sort((a, b) => b.n - a.n || Math.random() - 0.5)[0];
      if (!busiest?.c || (busiest.n === 0 && !force)) return false;
      const at = Date.now();
      busiest.c.child.kill("SIGKILL");
      runners[busiest.slot] = undefined;
      const { agentRuns, publishingRuns } = busiest.held;
      const kill: Kill = { at, runner: busiest.label, agentRuns, publishingRuns };
      kills.push(kill);
      // Restarted at once on the same data dir, as a supervisor (systemd, Kubernetes) restarts a crashed runner.
      const gen = ++generations[busiest.slot]!;
      restarting.push(
        startTracked(onlyRunner(busiest.slot, gen), busiest.slot).then((c) => {
          runners[busiest.slot] = c;
          kill.restartMs = Date.now() - at;
        }),
      );
      return true;
    };
    const restartRedis = async () => {
      const down = Date.now();
      await redisServer.stop();
      redisServer = await startRedisServer({ dataDir: redisDir, port: redisPort, persistence: true });
      track(redisServer.child, { last: true });
      if (redisServer.port !== redisPort) throw new Error(`[bench] Redis came back on ${redisServer.port}`);
      redisDowntimes.push(Date.now() - down);
    };

    // --- watching until drained (bounded) ----------------------------------------------------------------------
    const deadline = t0 + shape.boundMs;
    let sent = false;
    void sending.then(() => {
      sent = true;
    });
    let drainedAt: number | undefined;
    const records = new Map<string, RunRecord>();
    let lastRecordPoll = 0;
    while (Date.now() < deadline) {
      if (killAt.length && Date.now() >= killAt[0]!) {
        if (await killOne(Date.now() - killAt[0]! > 4_000)) killAt.shift();
      }
      if (redisAt.length && Date.now() >= redisAt[0]!) {
        redisAt.shift();
        await restartRedis();
      }
      log.poll();
      for (const a of log.live()) if (!processAlive(a.pid)) a.goneAt = Date.now();
      if (Date.now() - lastRecordPoll > 200) {
        lastRecordPoll = Date.now();
        const open = accepted.flatMap((x) => x.jobs).filter((id) => !runEnds.has(id));
        // Redis may be down (restarting): a failed read is tried again on the next poll.
        const got = await Promise.all(open.map((id) => runStore.get(id).catch(() => undefined)));
        got.forEach((r, i) => {
          if (!r) return;
          records.set(open[i]!, r);
          if (isTerminal(r.state)) runEnds.set(open[i]!, r.endedAt ?? Date.now());
        });
        const allEnded = got.every((r) => r && isTerminal(r.state));
        if (sent && killAt.length === 0 && redisAt.length === 0 && allEnded && log.live().length === 0) {
          const counts = await Promise.all(
            queues.map((q) => q.getJobCounts("waiting", "active", "delayed", "prioritized").catch(() => undefined)),
          );
          if (counts.every((c) => c && Object.values(c).every((n) => n === 0))) {
            drainedAt = Date.now();
            break;
          }
        }
      }
      await sleep(50);
    }
    await Promise.allSettled(restarting);
    await sending;
    log.poll();
    const now = Date.now();
    for (const a of log.live()) if (!processAlive(a.pid)) a.goneAt = now;
    // Where the stuck runs' jobs are (BullMQ's state of each), for the report: stuck is a bug to find, not a number.
    const stuckJobs = new Map<string, string>();
    const stageQueue = queues[0]!;
    for (const id of accepted.flatMap((x) => x.jobs).filter((j) => !runEnds.has(j))) {
      const job = await stageQueue.getJob(id).catch(() => undefined);
      const state = job ? await job.getState().catch(() => "unknown") : "no job";
      const stalled = job ? (job as unknown as { stalledCounter?: number }).stalledCounter : undefined;
      stuckJobs.set(
        id,
        `${state}${job ? `, ${job.attemptsMade} attempts made, stalled ${stalled ?? 0}×${job.failedReason ? `, failed: ${job.failedReason.slice(0, 120)}` : ""}` : ""}`,
      );
    }
    const jobCounts = await stageQueue
      .getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed")
      .catch(() => ({}));
    // The run logs of runs whose finished agent was started again: what the re-picked job saw (for the report).
    const rerunLogs = new Map<string, string[]>();
    for (const id of finishedAndRerun(log.agents.values()).slice(0, 4)) {
      const entries = await runStore.readLog(id).catch(() => []);
      rerunLogs.set(
        id,
        entries.filter((e) => e.stream === "system").map((e) => e.line.slice(0, 240)),
      );
    }
    // Status comments per run that ran (the emulator's stored comments, found by forgehand's own marker).
    const statusComments = new Map<string, number>();
    for (const c of emulator.state.repos.get(FULL_NAME)?.comments ?? []) {
      const id = /<!-- forgehand:run=(\S+) -->/.exec(c.body)?.[1];
      if (id) statusComments.set(id, (statusComments.get(id) ?? 0) + 1);
    }
    // Left = alive once every forgehand process has stopped (SIGTERM: runners stop their agents, verified).
    await Promise.all(everyChild.map((c) => c.stop(15_000)));
    const left = log.live().filter((a) => processAlive(a.pid)).length;
    // Forge writes of the storm, by kind (the emulator records every request; git traffic is not a REST write).
    const writes = new Map<string, number>();
    for (const c of emulator.calls) {
      if (c.method === "GET" || c.method === "HEAD" || !c.path.startsWith("/repos/") || c.scope === undefined) continue;
      const k = c.status === 403 || c.status === 429 ? "refused (403/429)" : writeKind(c).kind;
      writes.set(k, (writes.get(k) ?? 0) + 1);
    }
    return {
      t0,
      drainedAt,
      accepted,
      unaccepted,
      refusedTries,
      acceptLatency,
      kills,
      redisDowntimes,
      runEnds,
      records,
      log,
      now,
      left,
      writes,
      stuckJobs,
      jobCounts,
      statusComments,
      rerunLogs,
    };
  } finally {
    await Promise.all(everyChild.map((c) => c.stop(15_000)));
    await Promise.all(queues.map((q) => q.close().catch(() => {})));
    redis.disconnect();
    await emulator.close();
    await redisServer.stop();
  }
}

type Storm = Awaited<ReturnType<typeof storm>>;

const COALESCED = /^not started: run (\S+) of stage /;

/** The run a trigger's work ended up in: itself, or (coalesced) the queued run it was folded into. */
function resolveRun(records: Map<string, RunRecord>, id: string): RunRecord | undefined {
  let record = records.get(id);
  for (let hops = 0; record && hops < 50; hops++) {
    const into = record.state === "stopped" ? COALESCED.exec(record.reason ?? "")?.[1] : undefined;
    if (!into) return record;
    record = records.get(into);
  }
  return record;
}

/** Per kill: how long until each run the killed runner held was back (its agent started again, or its publishing ended). */
function backDelays(s: Storm): Array<{ kill: Kill; publishingRuns: string[]; backMs: Array<number | undefined> }> {
  const agents = [...s.log.agents.values()];
  return s.kills.map((kill) => {
    const backAt = (runId: string) => {
      const restarted = agents.filter((a) => a.runId === runId && a.startAt > kill.at).map((a) => a.startAt);
      const ended = s.runEnds.get(runId);
      const candidates = [...restarted, ...(ended !== undefined && ended > kill.at ? [ended] : [])];
      return candidates.length ? Math.min(...candidates) - kill.at : undefined;
    };
    // The run records are polled every 200 ms: a run seen "publishing" at the kill may in fact have ended just
    // before it (its record's endedAt says so). It was not in the killed runner's hands; it is dropped here.
    const endedBefore = (runId: string) => (s.runEnds.get(runId) ?? Number.POSITIVE_INFINITY) <= kill.at;
    const publishingRuns = kill.publishingRuns.filter((r) => !endedBefore(r));
    return { kill, publishingRuns, backMs: [...kill.agentRuns, ...publishingRuns].map(backAt) };
  });
}

function analyse(s: Storm, shape: StormShape) {
  const agents = [...s.log.agents.values()];
  const runIds = s.accepted.flatMap((a) => a.jobs);
  const lost = s.accepted.filter((a) => a.jobs.some((id) => resolveRun(s.records, id)?.state !== "succeeded"));
  const stuck = runIds.filter((id) => !s.runEnds.has(id));
  const states = new Map<string, number>();
  const reasons = new Set<string>();
  for (const id of runIds) {
    const r = s.records.get(id);
    const state = r?.state ?? "missing";
    const coalesced = r?.state === "stopped" && COALESCED.test(r.reason ?? "");
    const key = coalesced ? "coalesced" : state;
    states.set(key, (states.get(key) ?? 0) + 1);
    if (!coalesced && state !== "succeeded") reasons.add(`${state}: ${r?.reason ?? ""}`.slice(0, 400));
  }
  const delays = backDelays(s);
  const allBack = delays.flatMap((d) => d.backMs);
  const back = allBack.filter((x): x is number => x !== undefined);
  const neverBack = allBack.length - back.length;
  const overlap = overlaps(agents, s.now);
  const rerun = finishedAndRerun(agents);
  const drainMs = s.drainedAt === undefined ? undefined : s.drainedAt - s.t0;
  const maxBack = back.length ? Math.max(...back) : undefined;
  // Every run that succeeded has exactly one status comment: none lost, none posted twice by a takeover.
  const succeeded = runIds.filter((id) => s.records.get(id)?.state === "succeeded");
  const noStatus = succeeded.filter((id) => !s.statusComments.get(id));
  const twoStatus = [...s.statusComments.entries()].filter(([, n]) => n > 1).map(([id]) => id);
  const met =
    drainMs !== undefined &&
    drainMs <= shape.drainTargetMs &&
    lost.length === 0 &&
    s.unaccepted.length === 0 &&
    overlap.issues === 0 &&
    s.left === 0 &&
    stuck.length === 0 &&
    rerun.length === 0 &&
    noStatus.length === 0 &&
    twoStatus.length === 0 &&
    neverBack === 0 &&
    (maxBack ?? 0) <= shape.backTargetMs;
  return {
    noStatus,
    twoStatus,
    agents,
    runIds,
    lost,
    stuck,
    states,
    reasons,
    delays,
    back,
    neverBack,
    overlap,
    rerun,
    drainMs,
    maxBack,
    met,
  };
}

/** Figure 8: the crash storm of issue 17's "done when". */
export const crashStormFigure: Figure = {
  id: "crash-storm",
  title: "8. Crash storm",
  method: `A webhook-only process and ${RUNNERS} runner-only processes (the bench's forgehand-server child: createApp / createRunner as \`forgehand start\` builds them, production timings: lease 20 s, job lock 15 s, stalled check 5 s, heartbeat 5 s / 1 s) on one redis-server with AOF, against the forge emulator playing GitHub (a GitHub App, one installation, every write through the write budget shared in Redis; git over smart HTTP from a bare origin). Signed \`issue_comment.created\` deliveries of \`/run analyse\` comments (stored on the emulated issue first: a run checks at start that its comment still exists; a label already on an issue fires no second \`labeled\`, a comment anyone can repeat) are sent evenly over the storm, round-robin over the issues; a delivery answered 503 (Redis restarting) is sent again with the same delivery id every 250 ms, as a redelivery would be. The agent (bench/fixtures/storm-agent.mjs, unsandboxed) logs start and end to a shared file, works ½–1½ × its mean time and changes one file (every run commits and pushes). During the storm, at evenly spaced times, the runner holding the most runs (agents alive, or finished and publishing; up to 4 s is waited for one that holds any) is SIGKILLed and restarted at once on its own data dir; Redis is stopped (SIGTERM: it writes its AOF) and started again on the same port and data dir. The bench polls agents' pids every 50 ms (an agent killed with its runner leaves no end line) and the run records every 200 ms. Drained = every accepted run ended, BullMQ's stage and command queues empty, no agent alive. Left = an agent alive after every forgehand process was stopped. Lost = an accepted delivery whose run (or the queued run it was coalesced into) did not succeed. Overlap = two agents of one issue alive at once. Re-run = an agent started for a run id whose agent had already finished. Every succeeded run must have exactly one status comment (found in the emulator by forgehand's marker). Back = from a SIGKILL to the killed runner's run's agent starting again (agent was running) or its publishing ending (agent had finished)`,
  target:
    "drains within 240 s; 0 accepted deliveries lost, 0 overlapping agents, 0 agents left, 0 runs stuck, 0 finished agents re-run; every killed runner's run back within 10 s",
  async run(ctx): Promise<FigureOutcome> {
    const shape = SHAPES[ctx.size];
    ctx.note(
      `crash storm: ${shape.deliveries} deliveries over ${shape.issues} issues, ${shape.kills} runner SIGKILLs, ${shape.redisRestarts} Redis restarts…`,
    );
    const s = await storm(ctx, shape);
    const a = analyse(s, shape);
    const back = a.back;
    const headline = `${shape.deliveries} deliveries over ${shape.issues} issues, ${shape.kills} runner SIGKILLs, ${shape.redisRestarts} Redis restarts: ${a.drainMs === undefined ? "did NOT drain" : `drained in ${fmt(a.drainMs / 1000)} s`}; ${a.lost.length + s.unaccepted.length} deliveries lost, ${a.overlap.issues} issues with overlapping agents, ${s.left} agents left, ${a.stuck.length} runs stuck, ${a.rerun.length} finished agents re-run; killed runners' runs back in ${back.length ? `${fmt(median(back))} ms p50 / ${fmt(Math.max(...back))} ms max` : "—"}${a.neverBack ? ` (${a.neverBack} never)` : ""}`;
    const problems = [
      a.drainMs === undefined || a.drainMs > shape.drainTargetMs
        ? `drain ${a.drainMs === undefined ? "not reached" : `${fmt(a.drainMs / 1000)} s`}`
        : "",
      a.lost.length ? `${a.lost.length} accepted deliveries lost` : "",
      s.unaccepted.length
        ? `${s.unaccepted.length} deliveries never accepted (${s.unaccepted.slice(0, 2).join("; ")})`
        : "",
      a.overlap.issues ? `${a.overlap.issues} issues ran two agents at once (${a.overlap.pairs} pairs)` : "",
      s.left ? `${s.left} agents left alive` : "",
      a.stuck.length ? `${a.stuck.length} runs stuck` : "",
      a.rerun.length ? `${a.rerun.length} finished agents re-run` : "",
      a.neverBack ? `${a.neverBack} killed runs never came back` : "",
      a.noStatus.length
        ? `${a.noStatus.length} succeeded runs without a status comment (${a.noStatus.slice(0, 3).join(", ")})`
        : "",
      a.twoStatus.length ? `${a.twoStatus.length} runs with two status comments` : "",
      (a.maxBack ?? 0) > shape.backTargetMs ? `slowest run back after ${fmt(a.maxBack!)} ms` : "",
      a.reasons.size ? `runs that did not succeed: ${[...a.reasons].slice(0, 4).join("; ")}` : "",
    ].filter(Boolean);
    return {
      method: `${crashStormFigure.method}. This run: ${shape.deliveries} deliveries over ${fmt(shape.spreadMs / 1000)} s and ${shape.issues} issues, agent mean ${shape.agentMs} ms, ${shape.kills} kills, ${shape.redisRestarts} Redis restarts. The machine is shared with other work (load ${ctx.machine.load1} at start, ${ctx.machine.cores} cores)`,
      status: a.met ? "met" : "missed",
      headline,
      reason: a.met ? undefined : problems.join("; "),
      metrics: {
        ...(a.drainMs === undefined ? {} : { drainMs: a.drainMs }),
        deliveries: s.accepted.length,
        agentStarts: a.agents.length,
        runnerKills: s.kills.length,
        ...(back.length ? { backP50Ms: median(back), backMaxMs: Math.max(...back) } : {}),
        ...(s.redisDowntimes.length ? { redisDowntimeMaxMs: Math.max(...s.redisDowntimes) } : {}),
        lostDeliveriesCount: a.lost.length + s.unaccepted.length,
        overlappingIssuesCount: a.overlap.issues,
        agentsLeftCount: s.left,
        stuckRunsCount: a.stuck.length,
        finishedAgentsRerunCount: a.rerun.length,
        runsWithoutStatusCount: a.noStatus.length,
        runsWithTwoStatusCount: a.twoStatus.length,
      },
      details: [
        `Runs: ${[...a.states.entries()].map(([k, n]) => `${n} ${k}`).join(", ")}; ${a.agents.length} agent starts. Deliveries answered 503 or unanswered and sent again: ${s.refusedTries} tries; accepted in ${fmt(median(s.acceptLatency))} ms p50 / ${fmt(Math.max(...s.acceptLatency))} ms max from first try${s.accepted.some((x) => x.duplicate) ? `; ${s.accepted.filter((x) => x.duplicate).length} came back "duplicate" on a retry (committed, answer lost)` : ""}. Redis down ${s.redisDowntimes.map((d) => `${fmt(d)} ms`).join(", ")} per restart.`,
        "",
        `Forge writes during the storm: ${[...s.writes.entries()]
          .sort((x, y) => y[1] - x[1])
          .map(([k, n]) => `${n} ${k}`)
          .join(", ")}.`,
        "",
        "| kill | at s | runner | agents running | publishing | back after (ms) | runner restarted after (ms) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        ...a.delays.map(
          ({ kill, publishingRuns, backMs }, i) =>
            `| ${i + 1} | ${fmt((kill.at - s.t0) / 1000)} | ${kill.runner} | ${kill.agentRuns.length} | ${publishingRuns.length} | ${backMs.map((b) => (b === undefined ? "never" : fmt(b))).join(", ") || "—"} | ${kill.restartMs === undefined ? "—" : fmt(kill.restartMs)} |`,
        ),
        ...(a.stuck.length
          ? [
              "",
              `Stage queue at the end: ${JSON.stringify(s.jobCounts)}. Stuck runs by job state: ${JSON.stringify(
                [...s.stuckJobs.values()].reduce<Record<string, number>>((m, v) => {
                  const k = v.split(",")[0] ?? v;
                  m[k] = (m[k] ?? 0) + 1;
                  return m;
                }, {}),
              )}.`,
              "",
              "Stuck runs (record state, runner, attempts, waiting, started; job):",
              ...a.stuck.slice(0, 8).map((id) => {
                const r = s.records.get(id);
                return `- ${id}: ${r ? `${r.state}, ${r.runner ?? "no runner"}, ${r.attempts} attempts, ${r.waiting ?? "-"}, started ${r.startedAt ? fmt((r.startedAt - s.t0) / 1000) : "-"} s` : "no record"}; job ${s.stuckJobs.get(id) ?? "?"}`;
              }),
            ]
          : []),
        ...[...s.rerunLogs.entries()].flatMap(([id, lines]) => [
          "",
          `Run log of ${id} (its finished agent was started again), system lines:`,
          "",
          ...lines.map((l) => `    ${l}`),
        ]),
        ...(problems.length ? ["", `Missed: ${problems.join("; ")}.`] : []),
      ],
    };
  },
};
