import { randomUUID } from "node:crypto";
import {
  type Config,
  formatDuration,
  issueKey,
  isTerminal,
  type Logger,
  type RunRecord,
  type RunState,
} from "@forgehand/core";
import type { ForgeClients } from "@forgehand/forge";
import { type RunStore, recordRunEnd, StageJob } from "@forgehand/queue";
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import { type AbortCause, abortCauseOf, abortRun } from "./abort-cause";
import { backoffMs } from "./classify-failure";
import { holdLease } from "./hold-lease";
import type { RunGateFn, StatusSinkFactory, SuperviseFn, Workspaces } from "./ports";
import { queuedRecord, recordLimits } from "./queued-record";
import { runStage, type StageResult } from "./run-stage";
import { pendingStop, type StopWatcher } from "./stop-watcher";

/** What the stage processor needs from the runner. */
export interface StageProcessorDeps {
  config: Config;
  configDir: string;
  prefix: string;
  redis: Redis;
  store: RunStore;
  forges: ForgeClients;
  logger: Logger;
  runnerId: string;
  workspaces: Workspaces;
  supervise: SuperviseFn;
  runGate: RunGateFn;
  statusSink: StatusSinkFactory;
  registryDir: string;
  env: NodeJS.ProcessEnv;
  stopWatcher: StopWatcher;
  /** Live runs of this runner, so `close()` can stop them. */
  live: Map<string, AbortController>;
  leaseTtlMs: number;
  lockedRetryMs: number;
  progressIntervalMs: number;
}

/** What a finished stage job returns (BullMQ stores it as the job's return value). */
export interface StageJobResult {
  runId: string;
  state: RunState;
}

const WATCHDOG: Partial<Record<RunState, string>> = {
  timed_out: "timeout",
  stalled: "stall",
  turn_limit: "turns",
  budget_limit: "budget",
};

/** Puts the job back in the delayed set (same job id = same run id); never fails or drops it. */
async function requeue(job: Job, token: string | undefined, atMs: number): Promise<never> {
  await job.moveToDelayed(atMs, token);
  throw new DelayedError();
}

/** The BullMQ processor for STAGE_QUEUE: stop check, issue lease, run record, stage run, retries. */
export function createStageProcessor(deps: StageProcessorDeps) {
  const { store, config, logger: baseLogger } = deps;

  async function end(record: RunRecord, state: RunState, patch: Partial<RunRecord>, result?: StageResult) {
    const { record: final } = await store.update(record.id, { ...patch, state, endedAt: Date.now() });
    const kill = result?.outcome?.kill;
    try {
      await recordRunEnd(deps.redis, deps.prefix, {
        state,
        ...(kill ? { killMs: kill.durationMs, survivors: kill.survivors.length } : {}),
        ...(WATCHDOG[state] ? { watchdogReason: WATCHDOG[state] } : {}),
      });
    } catch (error) {
      baseLogger.warn("run metrics not recorded", { runId: record.id, error });
    }
    return final ?? { ...record, ...patch, state };
  }

  return async function processStageJob(job: Job, token?: string): Promise<StageJobResult> {
    const parsed = StageJob.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`[runner] job ${job.id} is not a stage job: ${parsed.error.issues[0]?.message}`);
    const data = parsed.data;
    const key = issueKey(data.ref);
    const log = baseLogger.child({ runId: data.runId, issue: key, stage: data.stage });
    const stage = config.stages.find((s) => s.name === data.stage);
    const { record } = await store.create(queuedRecord(data, recordLimits(stage?.limits), deps.runnerId));
    if (isTerminal(record.state)) {
      log.info("run already ended; job completed without running again", { state: record.state });
      return { runId: data.runId, state: record.state };
    }

    // The bot's own label removals are not stops (stop-watcher.ts isSelfInflicted).
    const botLogin = deps.forges.botLogin(data.ref.repo.forge);
    const target = { runId: data.runId, issue: key, requestedAt: data.requestedAt, botLogin };
    const early = await pendingStop(deps.redis, deps.prefix, target);
    if (early) {
      const stopped = await end(record, "stopped", {
        stoppedBy: early.by,
        reason: `stopped by ${early.by} (${early.reason}) before it started`,
      });
      await store.appendLog(data.runId, "system", stopped.reason ?? "stopped");
      log.info("queued run cancelled by a stop request", { by: early.by });
      // A run waiting for a retry already has a status comment (saying `queued`): it must say `stopped` now.
      if (record.attempts > 0) {
        const forge = deps.forges.for(data.ref.repo.forge, data.ref.installationId);
        await deps
          .statusSink(forge, stopped, data.ref)
          .finish(stopped)
          .catch((error) => log.warn("final status comment not posted", { error }));
      }
      return { runId: data.runId, state: "stopped" };
    }
    const forge = deps.forges.for(data.ref.repo.forge, data.ref.installationId);
    if (!stage) {
      const reason = `[runner] unknown stage "${data.stage}" (configured: ${config.stages.map((s) => s.name).join(", ")})`;
      await end(record, "failed", { reason });
      await forge.addLabels(data.ref, [config.labels.failed]).catch(() => {});
      return { runId: data.runId, state: "failed" };
    }

    const controller = new AbortController();
    const abort = (cause: AbortCause) => abortRun(controller, cause);
    const lease = await holdLease({
      redis: deps.redis,
      prefix: deps.prefix,
      issue: key,
      token: `${deps.runnerId}:${data.runId}:${randomUUID()}`,
      ttlMs: deps.leaseTtlMs,
      logger: log,
      onLost: (why) => abort({ kind: "lease", why }),
    });
    if (!lease) {
      // Another run holds the issue: wait our turn (jitter spreads the retries of many waiting jobs).
      log.debug("issue busy; job delayed");
      return await requeue(job, token, Date.now() + deps.lockedRetryMs * (0.75 + Math.random() * 0.5));
    }

    const unwatch = deps.stopWatcher.watch({ ...target, onStop: (request) => abort({ kind: "stop", request }) });
    deps.live.set(data.runId, controller);
    let progressTimer: NodeJS.Timeout | undefined;
    try {
      // Re-read under the lease: a stalled copy of this job may have finished it meanwhile.
      const fresh = await store.get(data.runId);
      if (!fresh || isTerminal(fresh.state)) return { runId: data.runId, state: fresh?.state ?? "failed" };
      const start = await store.update(data.runId, {
        state: "running",
        startedAt: Date.now(),
        runner: deps.runnerId,
        attempts: fresh.attempts + 1,
        reason: "",
      });
      if (!start.applied || !start.record) return { runId: data.runId, state: start.record?.state ?? "failed" };
      let current: RunRecord = start.record;
      await store.appendLog(data.runId, "system", `attempt ${current.attempts} started on runner ${deps.runnerId}`);
      const sink = deps.statusSink(forge, current, data.ref);
      sink.update(current);

      let pending: Partial<RunRecord> = {};
      const flush = async () => {
        if (Object.keys(pending).length === 0) return;
        const patch = pending;
        pending = {};
        try {
          const res = await store.update(data.runId, patch);
          if (res.record) current = res.record;
        } catch (error) {
          log.debug("progress not stored", { error });
        }
        sink.update(current);
      };
      progressTimer = setInterval(() => void flush(), deps.progressIntervalMs);

      let result: StageResult;
      try {
        result = await runStage({
          job: data,
          stage,
          config,
          configDir: deps.configDir,
          forge,
          workspaces: deps.workspaces,
          supervise: deps.supervise,
          runGate: deps.runGate,
          registryDir: deps.registryDir,
          env: deps.env,
          signal: controller.signal,
          logger: log,
          onProgress: (patch) => Object.assign(pending, patch),
          // The record holds what earlier attempts of this run used (0 on the first attempt).
          spent: { turns: current.turns, costUsd: current.costUsd },
          onLog: (stream, line) => void store.appendLog(data.runId, stream, line).catch(() => {}),
        });
      } catch (error) {
        log.error("stage run crashed", { error });
        result = { state: "failed", reason: `[runner] ${(error as Error).message}` };
      }
      clearInterval(progressTimer);
      await flush();

      const cause = abortCauseOf(controller.signal);
      if (result.state === "stopped" && cause && cause.kind !== "stop") {
        // Not a user's stop: the run goes back to the queue for this or another runner.
        const why = cause.kind === "shutdown" ? "runner shutting down" : `issue lease lost (${cause.why})`;
        const { record: back } = await store.update(data.runId, {
          state: "queued",
          reason: `returned to the queue: ${why}`,
        });
        await store.appendLog(data.runId, "system", `agent stopped and run returned to the queue: ${why}`);
        // This attempt's last edit must land before the job can come up again: a late coalesced
        // `queued` edit could otherwise overwrite the next attempt's (or a stop's) status.
        if (back) await sink.finish(back);
        log.info("run returned to the queue", { why });
        return await requeue(job, token, Date.now() + (cause.kind === "lease" ? deps.lockedRetryMs : 0));
      }

      const used = (job.data as { transientRetries?: number }).transientRetries ?? 0;
      if (result.transient && used < config.runner.transientRetries) {
        const delay = backoffMs(used + 1, config.runner.retryBackoff, result.transient.retryAfterMs);
        const reason = `transient failure (${result.transient.why}); retry ${used + 1}/${config.runner.transientRetries} in ${formatDuration(delay)}`;
        await job.updateData({ ...(job.data as object), transientRetries: used + 1 });
        const { record: back } = await store.update(data.runId, { state: "queued", reason });
        await store.appendLog(data.runId, "system", reason);
        if (back) await sink.finish(back);
        log.info("transient failure; retrying", { delayMs: delay, why: result.transient.why });
        return await requeue(job, token, Date.now() + delay);
      }

      let reason = result.reason ?? "";
      if (result.transient) reason = `gave up after ${used} retries: ${reason}`;
      const patch: Partial<RunRecord> = { reason, ...(result.prUrl ? { prUrl: result.prUrl } : {}) };
      if (result.state === "stopped" && cause?.kind === "stop") {
        patch.stoppedBy = cause.request.by;
        patch.reason = `stopped by ${cause.request.by} (${cause.request.reason})`;
      }
      if (result.state !== "succeeded" && result.state !== "stopped") {
        await forge.addLabels(data.ref, [config.labels.failed]).catch((error) => {
          log.warn("failed label not added", { error });
        });
      }
      await store.appendLog(
        data.runId,
        "system",
        `run ended: ${result.state}${patch.reason ? ` — ${patch.reason}` : ""}`,
      );
      const final = await end(current, result.state, patch, result);
      await sink.finish(final);
      log.info("run ended", { state: result.state });
      return { runId: data.runId, state: result.state };
    } finally {
      clearInterval(progressTimer);
      unwatch();
      deps.live.delete(data.runId);
      await lease.release();
    }
  };
}
