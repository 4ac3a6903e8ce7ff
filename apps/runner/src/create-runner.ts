import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { type Config, collectSecrets, createRedactor, type ForgeId, type Logger, type Redactor } from "@forgehand/core";
import type { ForgeClients } from "@forgehand/forge";
import { createRedis, createRunStore, createSpendLedger, createStageOutputStore, STAGE_QUEUE } from "@forgehand/queue";
import { reapOrphans, supervise } from "@forgehand/supervisor";
import { Queue } from "bullmq";
import { createCommandCallbacks } from "./command-callbacks";
import { createCommandWorker } from "./command-worker";
import type { HostIdentity } from "./host-identity";
import { logSandboxStatus } from "./log-sandbox-status";
import type { ReapOrphansFn, RunGateFn, StageWorkspaces, StatusSinkFactory, SuperviseFn, Workspaces } from "./ports";
import { promoteStoppedJobs } from "./promote-stopped-jobs";
import { recordLimits } from "./queued-record";
import { forgesAddingCredentials, redactingRunGate, redactingSupervise } from "./redacting-tools";
import { closeResources, RunnerLifecycle } from "./runner-lifecycle";
import { startRunnerLiveness } from "./runner-liveness";
import { DEFAULT_TIMINGS, type RunnerTimings } from "./runner-timings";
import { createStageWorker } from "./stage-worker";
import { createStatusSinkFactory } from "./status-sink";
import { createStopWatcher } from "./stop-watcher";
import { runGate } from "./workspace/run-gate";
import { createWorkspaces } from "./workspace/workspaces";
import { startWorktreeSweeper } from "./workspace/worktree-sweeper";

export type { RunnerTimings } from "./runner-timings";

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
  /** The signed run-page link of a run; status comments link it as "Run log" (see `signedRunUrl`). */
  runUrl?: (runId: string) => string;
  /**
   * The process's redactor (one per process, shared with its logger): every secret forgehand holds is
   * replaced by `[REDACTED]` in status comments, PRs, commit messages, run records and run logs; git
   * credentials handed out at run time are added to it. Its literal layer (`containsSecret`) also guards
   * every push: a change that would publish a held secret is refused. @defaultValue built from `env` and `config`
   */
  redactor?: Pick<Redactor, "redact" | "add" | "containsSecret">;
  /** Timings (ms); production leaves them at their defaults, tests shorten them. */
  timings?: Partial<RunnerTimings>;
  /** Replaces collaborators (tests, embedding). */
  overrides?: {
    supervise?: SuperviseFn;
    reapOrphans?: ReapOrphansFn;
    /** Stage workspaces that manage their own disk: the runner sweeps no worktrees then. */
    workspaces?: StageWorkspaces;
    runGate?: RunGateFn;
    statusSink?: StatusSinkFactory;
    /** This runner's host as peers see it (tests pose runners on other hosts). @defaultValue hostIdentity() */
    host?: HostIdentity;
  };
}

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
  // Lease tokens read `<runner>:<runId>:<uuid>`: a ':' in the id would let one runner's prefix match another's.
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(id))
    throw new Error(`[runner] Expected a runner id made of [A-Za-z0-9._-], got \`${id}\``);
  const t: RunnerTimings = { ...DEFAULT_TIMINGS, ...deps.timings };
  const logger = deps.logger.child({ runner: id });
  const registryDir = join(deps.dataDir, "agents");
  const concurrency = deps.concurrency ?? deps.config.runner.concurrency;
  const lifecycle = new RunnerLifecycle();
  const { opened } = lifecycle;
  const redactor =
    deps.redactor ?? createRedactor(collectSecrets({ env: deps.env ?? process.env, config: deps.config }));
  const redact = (text: string) => redactor.redact(text);
  const forges = forgesAddingCredentials(deps.forges, (values) => redactor.add(values));
  const statusSink =
    deps.overrides?.statusSink ??
    createStatusSinkFactory({
      config: deps.config,
      logger,
      publicUrl: deps.publicUrl,
      ...(deps.runUrl ? { runUrl: deps.runUrl } : {}),
      redact,
    });

  /** The git workspaces, or an override (tests, embedding) that manages its own disk and is never swept. */
  function chooseWorkspaces(): { workspaces: StageWorkspaces; sweepable?: Workspaces } {
    if (deps.overrides?.workspaces) return { workspaces: deps.overrides.workspaces };
    const git = createWorkspaces({
      rootDir: join(deps.dataDir, "workspaces"),
      // The sandbox's per-issue HOMEs (agentHomeDir): swept with their worktrees.
      agentHomesDir: join(deps.dataDir, "agent-homes"),
      // An agent's own key (its env) or anything it read, written into a file or commit: never pushed.
      containsSecret: (text) => redactor.containsSecret(text),
      logger,
      author: { name: deps.config.git.authorName, email: deps.config.git.authorEmail },
      branchPrefix: deps.config.git.branchPrefix.replace(/\/+$/, ""),
    });
    return { workspaces: git, sweepable: git };
  }

  async function startOnce() {
    // A runner that loses Redis stops its agent at 60% of the lease; the kill must fit in the rest.
    if (t.leaseTtlMs * 0.4 < deps.config.runner.killGrace + 1_000)
      logger.warn("lease time is short for runner.killGrace; a lost lease could lapse before the agent is gone", {
        leaseTtlMs: t.leaseTtlMs,
        killGraceMs: deps.config.runner.killGrace,
      });
    mkdirSync(registryDir, { recursive: true });
    await logSandboxStatus(deps.config, logger);
    const reports = await (deps.overrides?.reapOrphans ?? reapOrphans)(registryDir, logger);
    if (reports.length) logger.warn("killed agents left by an earlier runner", { count: reports.length });
    const redis = createRedis(deps.redisUrl, "worker");
    opened.redis = redis;
    const store = createRunStore(redis, deps.prefix, { redact });
    const watcher = createStopWatcher({
      subscriber: createRedis(deps.redisUrl, "worker"),
      redis,
      prefix: deps.prefix,
      pollMs: t.stopPollMs,
      logger,
      // A stopped run that waits out a backoff comes up now and is cancelled, instead of reading `queued` for minutes.
      onRequest: (request) => {
        if (!opened.queue || lifecycle.closing) return;
        const botLogin = (forge: ForgeId) => forges.botLogin(forge);
        promoteStoppedJobs({ queue: opened.queue, redis, prefix: deps.prefix, request, botLogin }).catch((error) =>
          logger.debug("bringing forward stopped jobs failed", { error }),
        );
      },
    });
    opened.watcher = watcher;
    const { workspaces, sweepable } = chooseWorkspaces();
    const queue = new Queue(STAGE_QUEUE, { connection: redis, prefix: deps.prefix });
    opened.queue = queue;
    queue.on("error", (error) => logger.warn("stage queue error", { error }));
    opened.workerConn = createRedis(deps.redisUrl, "worker");
    const stageWorker = createStageWorker({
      connection: opened.workerConn,
      concurrency,
      lockDurationMs: t.lockDurationMs,
      stalledIntervalMs: t.stalledIntervalMs,
      processor: {
        runner: { id, logger, live: lifecycle.live },
        settings: {
          config: deps.config,
          configDir: deps.configDir,
          leaseTtlMs: t.leaseTtlMs,
          lockedRetryMs: t.lockedRetryMs,
          progressIntervalMs: t.progressIntervalMs,
        },
        // Spend is always counted (`forgehand runs`, /metrics); `budgets:` caps only decide what it stops.
        queue: {
          redis,
          prefix: deps.prefix,
          store,
          stopWatcher: watcher,
          spend: createSpendLedger(redis, deps.prefix, deps.config.budgets),
        },
        forge: { clients: forges, statusSink },
        tools: {
          workspaces,
          // Agent and gate output is redacted where it enters the runner, before anything cuts it.
          supervise: redactingSupervise(deps.overrides?.supervise ?? supervise, redact),
          runGate: redactingRunGate(deps.overrides?.runGate ?? runGate, redact),
          registryDir,
          dataDir: deps.dataDir,
          env: deps.env ?? process.env,
          redact,
          outputs: createStageOutputStore(redis, deps.prefix),
          shared: { redis, prefix: deps.prefix },
        },
      },
    });
    opened.stageWorker = stageWorker;
    const callbacks = createCommandCallbacks({
      redis,
      prefix: deps.prefix,
      store,
      queue,
      forges,
      statusSink,
      limitsFor: (name) => recordLimits(deps.config.stages.find((s) => s.name === name)?.limits),
    });
    opened.commandConn = createRedis(deps.redisUrl, "worker");
    const commandWorker = createCommandWorker({
      connection: opened.commandConn,
      prefix: deps.prefix,
      config: deps.config,
      forges,
      logger,
      callbacks,
    });
    opened.commandWorker = commandWorker;
    // BullMQ's connections finish a handshake (INFO) after construction. Closing one mid-handshake
    // strips its listeners, and the handshake's rejection is then emitted as an 'error' nobody
    // hears, which crashes the process (a SIGTERM right after start did). Being ready first avoids it.
    await Promise.all([queue.waitUntilReady(), stageWorker.waitUntilReady(), commandWorker.waitUntilReady()]);
    // Worktrees of finished issues would fill the disk; the sweep runs in the background, never before a job.
    if (sweepable)
      opened.sweeper = startWorktreeSweeper({
        workspaces: sweepable,
        retentionMs: deps.config.runner.worktreeRetention,
        intervalMs: t.worktreeSweepMs,
        redis,
        prefix: deps.prefix,
        token: `sweep:${id}`,
        ttlMs: t.leaseTtlMs,
        logger,
      });
    // Beats, and moves dead runners' jobs (and, once their agents are verified gone, their leases) back.
    opened.liveness = startRunnerLiveness({
      redis,
      prefix: deps.prefix,
      id,
      registryDir,
      queue,
      worker: stageWorker,
      heartbeatTtlMs: t.heartbeatTtlMs,
      heartbeatIntervalMs: t.heartbeatIntervalMs,
      leaseTtlMs: t.leaseTtlMs,
      logger,
      ...(deps.overrides?.host ? { host: deps.overrides.host } : {}),
    });
    logger.info("runner taking jobs", { concurrency });
  }

  return {
    id,
    start: () => lifecycle.start(startOnce),
    close: (opts = {}) =>
      lifecycle.close(() => closeResources(lifecycle, opts.graceMs ?? deps.config.runner.shutdownGrace, logger)),
  };
}
