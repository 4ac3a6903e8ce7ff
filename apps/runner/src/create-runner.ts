import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Config, ForgeId, Logger } from "@forgehand/core";
import { createPermissionCache, createStatusReporter, type ForgeClients, renderStatusComment } from "@forgehand/forge";
import { COMMAND_QUEUE, CommandJob, createRedis, createRunStore, STAGE_QUEUE } from "@forgehand/queue";
import { reapOrphans, supervise } from "@forgehand/supervisor";
import { Queue, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { abortRun } from "./abort-cause";
import { createCommandCallbacks } from "./command-callbacks";
import { handleCommandJob } from "./commands";
import type { ReapOrphansFn, RunGateFn, StatusSinkFactory, SuperviseFn, Workspaces } from "./ports";
import { createStageProcessor } from "./process-stage-job";
import { promoteStoppedJobs } from "./promote-stopped-jobs";
import { recordLimits } from "./queued-record";
import { createStopWatcher, type StopWatcher } from "./stop-watcher";
import { runGate } from "./workspace/run-gate";
import { createWorkspaces } from "./workspace/workspaces";
import { startWorktreeSweeper, type WorktreeSweeper } from "./workspace/worktree-sweeper";

export interface RunnerDeps {
  config: Config;
  /** Directory prompt paths are relative to. */
  configDir: string;
  redisUrl: string;
  prefix: string;
  forges: ForgeClients;
  logger: Logger;
  /** Holds `agents/` (pid registry for orphan reaping) and `workspaces/` (mirrors, worktrees). */
  dataDir: string;
  /** Stage jobs run at once. @defaultValue config.runner.concurrency */
  concurrency?: number;
  /** @defaultValue `<host>-<pid>-<random>` */
  runnerId?: string;
  /** Where PATH and HOME for agents come from. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** Base URL of the webhook app, linked from status comments. */
  publicUrl?: string;
  /** Timings (ms); production leaves them at their defaults, tests shorten them. */
  timings?: Partial<RunnerTimings>;
  /** Replaces collaborators (tests, embedding). */
  overrides?: {
    supervise?: SuperviseFn;
    reapOrphans?: ReapOrphansFn;
    workspaces?: Workspaces;
    runGate?: RunGateFn;
    statusSink?: StatusSinkFactory;
  };
}

export interface RunnerTimings {
  /** Issue lease lifetime; renewed every ttl/5 while the run lives. @defaultValue 30000 */
  leaseTtlMs: number;
  /** BullMQ job lock; a dead runner's job returns to the queue after it lapses. @defaultValue 30000 */
  lockDurationMs: number;
  /** How often BullMQ looks for jobs of dead runners. @defaultValue 30000 */
  stalledIntervalMs: number;
  /** Persisted stop flags are polled this often for every live run. @defaultValue 1000 */
  stopPollMs: number;
  /** A job whose issue is busy waits about this long before trying again. @defaultValue 2000 */
  lockedRetryMs: number;
  /** Run-record progress is written at most this often. @defaultValue 1000 */
  progressIntervalMs: number;
  /** Old worktrees are swept at start and then this often (see config runner.worktreeRetention). @defaultValue 3600000 */
  worktreeSweepMs: number;
}

const DEFAULT_TIMINGS: RunnerTimings = {
  leaseTtlMs: 30_000,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  stopPollMs: 1_000,
  lockedRetryMs: 2_000,
  progressIntervalMs: 1_000,
  worktreeSweepMs: 3_600_000,
};

export interface Runner {
  readonly id: string;
  /**
   * Reaps orphaned agents from an earlier crash on this data dir, then takes jobs; old worktrees are swept
   * in the background (runner.worktreeRetention), now and every `worktreeSweepMs`.
   */
  start(): Promise<void>;
  /** Stops taking jobs; running agents get `graceMs` to finish, then are stopped (verified) and re-queued. */
  close(opts?: { graceMs?: number }): Promise<void>;
}

/** Creates a runner: a BullMQ Worker on STAGE_QUEUE with per-issue leases (see README). */
export function createRunner(deps: RunnerDeps): Runner {
  const id = deps.runnerId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
  const t: RunnerTimings = { ...DEFAULT_TIMINGS, ...deps.timings };
  const logger = deps.logger.child({ runner: id });
  const live = new Map<string, AbortController>();
  const registryDir = join(deps.dataDir, "agents");
  let redis: Redis | undefined;
  let workerConn: Redis | undefined;
  let stageWorker: Worker | undefined;
  let commandWorker: Worker | undefined;
  let commandConn: Redis | undefined;
  let queue: Queue | undefined;
  let watcher: StopWatcher | undefined;
  let closing: Promise<void> | undefined;
  let starting: Promise<void> | undefined;
  let sweeper: WorktreeSweeper | undefined;

  const statusSink: StatusSinkFactory =
    deps.overrides?.statusSink ??
    ((forge, record, ref) =>
      createStatusReporter({
        forge,
        ref,
        runId: record.id,
        intervalMs: deps.config.status.interval,
        logger,
        render: (r) =>
          renderStatusComment(r, {
            stages: deps.config.stages,
            maxActions: deps.config.status.actions,
            ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
          }),
      }));

  function start(): Promise<void> {
    starting ??= startOnce();
    return starting;
  }

  async function startOnce() {
    // A runner that loses Redis stops its agent at 60% of the lease; the kill must fit in the rest.
    if (t.leaseTtlMs * 0.4 < deps.config.runner.killGrace + 1_000)
      logger.warn("lease time is short for runner.killGrace; a lost lease could lapse before the agent is gone", {
        leaseTtlMs: t.leaseTtlMs,
        killGraceMs: deps.config.runner.killGrace,
      });
    mkdirSync(registryDir, { recursive: true });
    const reports = await (deps.overrides?.reapOrphans ?? reapOrphans)(registryDir, logger);
    if (reports.length) logger.warn("killed agents left by an earlier runner", { count: reports.length });
    redis = createRedis(deps.redisUrl, "worker");
    const store = createRunStore(redis, deps.prefix);
    watcher = createStopWatcher({
      subscriber: createRedis(deps.redisUrl, "worker"),
      redis,
      prefix: deps.prefix,
      pollMs: t.stopPollMs,
      logger,
      // A stopped run that waits out a backoff comes up now and is cancelled, instead of reading `queued` for minutes.
      onRequest: (request) => {
        if (!queue || !redis || closing) return;
        const botLogin = (forge: ForgeId) => deps.forges.botLogin(forge);
        promoteStoppedJobs({ queue, redis, prefix: deps.prefix, request, botLogin }).catch((error) =>
          logger.debug("bringing forward stopped jobs failed", { error }),
        );
      },
    });
    // Only the git workspaces sweep; an override (tests, embedding) manages its own disk.
    const gitWorkspaces = deps.overrides?.workspaces
      ? undefined
      : createWorkspaces({
          rootDir: join(deps.dataDir, "workspaces"),
          logger,
          author: { name: deps.config.git.authorName, email: deps.config.git.authorEmail },
          branchPrefix: deps.config.git.branchPrefix.replace(/\/+$/, ""),
        });
    const workspaces = (deps.overrides?.workspaces ?? gitWorkspaces) as Workspaces;
    queue = new Queue(STAGE_QUEUE, { connection: redis, prefix: deps.prefix });
    queue.on("error", (error) => logger.warn("stage queue error", { error }));
    const processor = createStageProcessor({
      config: deps.config,
      configDir: deps.configDir,
      prefix: deps.prefix,
      redis,
      store,
      forges: deps.forges,
      logger,
      runnerId: id,
      workspaces,
      supervise: deps.overrides?.supervise ?? supervise,
      runGate: deps.overrides?.runGate ?? runGate,
      statusSink,
      registryDir,
      env: deps.env ?? process.env,
      stopWatcher: watcher,
      live,
      leaseTtlMs: t.leaseTtlMs,
      lockedRetryMs: t.lockedRetryMs,
      progressIntervalMs: t.progressIntervalMs,
    });
    // BullMQ leaves connections it was given open on close(); we close this one ourselves.
    workerConn = createRedis(deps.redisUrl, "worker");
    stageWorker = new Worker(STAGE_QUEUE, processor, {
      connection: workerConn,
      prefix: deps.prefix,
      concurrency: deps.concurrency ?? deps.config.runner.concurrency,
      lockDuration: t.lockDurationMs,
      stalledInterval: t.stalledIntervalMs,
      // A job whose runner died is re-queued, not failed; several crashes in a row are still bounded.
      maxStalledCount: 5,
    });
    stageWorker.on("error", (error) => logger.warn("stage worker error", { error }));
    stageWorker.on("failed", (job, error) => logger.error("stage job failed", { jobId: job?.id, error }));
    const callbacks = createCommandCallbacks({
      redis,
      prefix: deps.prefix,
      store,
      queue,
      forges: deps.forges,
      statusSink,
      limitsFor: (name) => recordLimits(deps.config.stages.find((s) => s.name === name)?.limits),
    });
    const permissions = createPermissionCache(deps.config.commands.permissionCacheTtl);
    // Commands are short and on their own queue, so /stop is never stuck behind running stages.
    commandConn = createRedis(deps.redisUrl, "worker");
    commandWorker = new Worker(
      COMMAND_QUEUE,
      async (job) => {
        const parsed = CommandJob.safeParse(job.data);
        if (!parsed.success)
          throw new UnrecoverableError(
            `[runner] job ${job.id} is not a command job: ${parsed.error.issues[0]?.message}`,
          );
        const ref = parsed.data.ref;
        const botLogin = deps.forges.botLogin(ref.repo.forge);
        await handleCommandJob(parsed.data, {
          config: deps.config,
          forge: deps.forges.for(ref.repo.forge, ref.installationId),
          ...(botLogin ? { botLogin } : {}),
          permissions,
          logger: logger.child({ commentId: parsed.data.commentId }),
          ...callbacks,
        });
      },
      { connection: commandConn, prefix: deps.prefix, concurrency: 4 },
    );
    commandWorker.on("error", (error) => logger.warn("command worker error", { error }));
    commandWorker.on("failed", (job, error) => logger.error("command job failed", { jobId: job?.id, error }));
    // BullMQ's connections finish a handshake (INFO) after construction. Closing one mid-handshake
    // strips its listeners, and the handshake's rejection is then emitted as an 'error' nobody
    // hears, which crashes the process (a SIGTERM right after start did). Being ready first avoids it.
    await Promise.all([queue.waitUntilReady(), stageWorker.waitUntilReady(), commandWorker.waitUntilReady()]);
    // Worktrees of finished issues would fill the disk; the sweep runs in the background, never before a job.
    if (gitWorkspaces)
      sweeper = startWorktreeSweeper({
        workspaces: gitWorkspaces,
        retentionMs: deps.config.runner.worktreeRetention,
        intervalMs: t.worktreeSweepMs,
        redis,
        prefix: deps.prefix,
        token: `sweep:${id}`,
        ttlMs: t.leaseTtlMs,
        logger,
      });
    logger.info("runner taking jobs", { concurrency: deps.concurrency ?? deps.config.runner.concurrency });
  }

  async function close(opts: { graceMs?: number } = {}) {
    closing ??= (async () => {
      // A close during start waits for it: tearing down half-made connections races their handshakes.
      await starting?.catch(() => {});
      const graceMs = opts.graceMs ?? deps.config.runner.shutdownGrace;
      // Stops after the worktree it is removing; awaited before the Redis connection its leases use closes.
      const sweepDone = sweeper?.close();
      // Stop fetching; close() resolves once the active jobs' processors returned.
      const closed = Promise.all([stageWorker?.close(), commandWorker?.close()]);
      const deadline = Date.now() + graceMs;
      while (live.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (live.size > 0) logger.info("shutdown grace over; stopping running agents", { runs: [...live.keys()] });
      for (const controller of live.values()) abortRun(controller, { kind: "shutdown" });
      await closed;
      await sweepDone;
      await queue?.close();
      await watcher?.close();
      for (const conn of [workerConn, commandConn, redis]) await conn?.quit().catch(() => conn.disconnect());
    })();
    return closing;
  }

  return { id, start, close };
}
