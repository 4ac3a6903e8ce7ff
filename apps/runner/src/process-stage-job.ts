import { randomUUID } from "node:crypto";
import { type Config, issueKey, isTerminal, type Logger, type RunRecord, type RunState } from "@forgehand/core";
import { createPermissionCache, type ForgeClient, type ForgeClients } from "@forgehand/forge";
import { type RunStore, recordRunEnd, type SpendLedger, StageJob, spendScope } from "@forgehand/queue";
import { DelayedError, type Job, type MinimalQueue, UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import { type AbortCause, abortCauseOf, abortRun } from "./abort-cause";
import { authoriseTrigger, triggerStillHolds } from "./check-trigger";
import { decideAfterRun } from "./decide-after-run";
import { finishStageOutput } from "./finish-stage-output";
import { checkForkPolicy, refuseFork } from "./fork-policy";
import { holdLease } from "./hold-lease";
import { forgeAsTriggered } from "./issue-as-triggered";
import { coalescedReason, leaveOrder, rejoinOrder, takeTurn } from "./issue-turn";
import type { StatusSink, StatusSinkFactory } from "./ports";
import { queuedRecord, recordLimits } from "./queued-record";
import { refuseTrigger, triggerGone } from "./refuse-trigger";
import { createRunBudget } from "./run-budget";
import { runStage } from "./run-stage";
import type { StageResult, StageTools } from "./stage-context";
import { pendingStop, type StopWatcher } from "./stop-watcher";

export type { AbortCause } from "./abort-cause";

/** What the stage processor needs from the runner, in five groups. */
export interface StageProcessorDeps {
  /** This runner: its id (in lease tokens and run records), its logger and its live runs (so `close()` can stop them). */
  runner: { id: string; logger: Logger; live: Map<string, AbortController> };
  /** The loaded config, the directory prompt paths are relative to, and the timings a run uses (ms). */
  settings: {
    config: Config;
    configDir: string;
    /** Issue lease lifetime. */
    leaseTtlMs: number;
    /** A job whose issue is busy waits about this long before trying again. */
    lockedRetryMs: number;
    /** Run-record progress is written at most this often. */
    progressIntervalMs: number;
  };
  /** Redis: the queue's connection and key prefix, the run store, and the stop flags of live runs. */
  queue: { redis: Redis; prefix: string; store: RunStore; stopWatcher: StopWatcher; spend?: SpendLedger };
  /** The forges, and the status comment each run keeps up to date there. */
  forge: { clients: ForgeClients; statusSink: StatusSinkFactory };
  /** What runs the stage: workspaces, supervisor, gate, pid registry and the env agents inherit from. */
  tools: StageTools;
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
  const { runner, settings, queue, forge: forges, tools } = deps;
  const { store, redis, prefix } = queue;
  const { config } = settings;
  const baseLogger = runner.logger;
  // Label senders are asked of the forge like command senders (the command worker keeps its own cache).
  const permissions = createPermissionCache(config.commands.permissionCacheTtl);

  async function end(record: RunRecord, state: RunState, patch: Partial<RunRecord>, result?: StageResult) {
    const { record: final } = await store.update(record.id, { ...patch, state, endedAt: Date.now() });
    const kill = result?.outcome?.kill;
    try {
      await recordRunEnd(redis, prefix, {
        state,
        ...(kill ? { killMs: kill.durationMs, survivors: kill.survivors.length } : {}),
        ...(WATCHDOG[state] ? { watchdogReason: WATCHDOG[state] } : {}),
        ...(result?.outcome?.sandbox ? { deniedConnections: result.outcome.sandbox.deniedConnections } : {}),
      });
    } catch (error) {
      baseLogger.warn("run metrics not recorded", { runId: record.id, error });
    }
    return final ?? { ...record, ...patch, state };
  }

  // A job that ends (not one delayed to try again) no longer waits in its issue's order (issue-turn.ts).
  return async function processStageJob(job: Job, token?: string): Promise<StageJobResult> {
    const parsed = StageJob.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`[runner] job ${job.id} is not a stage job: ${parsed.error.issues[0]?.message}`);
    const leave = () =>
      leaveOrder({ redis, prefix }, parsed.data).catch((error) =>
        baseLogger.warn("run not removed from its issue's order", { runId: parsed.data.runId, error }),
      );
    try {
      const result = await processParsed(job, parsed.data, token);
      await leave();
      return result;
    } catch (error) {
      if (!(error instanceof DelayedError)) await leave();
      throw error;
    }
  };

  /**
   * A run's end on the forge, in this order: the stage's output (by marker), the final status comment, then
   * `announced` in the record. The one sequence for a run ending here and for one whose runner died before it.
   */
  async function announce(o: {
    data: StageJob;
    stage: Config["stages"][number] | undefined;
    forge: ForgeClient;
    result: StageResult;
    final: RunRecord;
    sink: StatusSink;
    log: Logger;
  }) {
    const { data, stage, forge, result, log } = o;
    if (stage)
      await finishStageOutput({ job: data, stage, result, forge, outputs: tools.outputs, redact: tools.redact, log });
    await o.sink.finish(o.final);
    await store.update(data.runId, { announced: true });
  }

  /** A started run's end, as its own runner would have announced it, from what the record holds. */
  async function announceEnd(data: StageJob, record: RunRecord, log: Logger) {
    const stage = config.stages.find((s) => s.name === data.stage);
    const forge = forges.clients.for(data.ref.repo.forge, data.ref.installationId);
    const result: StageResult = { state: record.state, ...(record.output ? { output: record.output } : {}) };
    try {
      await announce({
        data,
        stage,
        forge,
        result,
        final: record,
        sink: forges.statusSink(forge, record, data.ref),
        log,
      });
      log.info("the run's end announced on the forge after its runner died");
    } catch (error) {
      // Thrown on: BullMQ retries the job, which comes back here (the record stays terminal, unannounced).
      log.warn("the run's end could not be announced yet", { error });
      throw error;
    }
  }

  async function processParsed(job: Job, data: StageJob, token?: string): Promise<StageJobResult> {
    const key = issueKey(data.ref);
    const log = baseLogger.child({ runId: data.runId, issue: key, stage: data.stage });
    const stage = config.stages.find((s) => s.name === data.stage);
    const { record } = await store.create(queuedRecord(data, recordLimits(stage?.limits), runner.id));
    if (isTerminal(record.state)) {
      log.info("run already ended; job completed without running again", { state: record.state });
      // It started and ended, but its runner died before the end reached the forge: announce it now.
      if (record.startedAt !== undefined && !record.announced) await announceEnd(data, record, log);
      return { runId: data.runId, state: record.state };
    }

    // The bot's own label removals are not stops (stop-watcher.ts isSelfInflicted).
    const botLogin = forges.clients.botLogin(data.ref.repo.forge);
    const target = { runId: data.runId, issue: key, stage: data.stage, requestedAt: data.requestedAt, botLogin };
    const early = await pendingStop(redis, prefix, target);
    if (early) {
      const stopped = await end(record, "stopped", {
        stoppedBy: early.by,
        reason: `stopped by ${early.by} (${early.reason}) before it started`,
      });
      await store.appendLog(data.runId, "system", stopped.reason ?? "stopped");
      log.info("queued run cancelled by a stop request", { by: early.by });
      // A run waiting for a retry already has a status comment (saying `queued`): it must say `stopped` now.
      if (record.attempts > 0) {
        const forge = forges.clients.for(data.ref.repo.forge, data.ref.installationId);
        await forges
          .statusSink(forge, stopped, data.ref)
          .finish(stopped)
          .catch((error) => log.warn("final status comment not posted", { error }));
      }
      return { runId: data.runId, state: "stopped" };
    }
    const forge = forges.clients.for(data.ref.repo.forge, data.ref.installationId);
    if (!stage) {
      const reason = `[runner] unknown stage "${data.stage}" (configured: ${config.stages.map((s) => s.name).join(", ")})`;
      await end(record, "failed", { reason });
      await forge.addLabels(data.ref, [config.labels.failed]).catch(() => {});
      return { runId: data.runId, state: "failed" };
    }
    // Before the lease: a run its sender may not start never waits for (or holds) the issue.
    let authorised: Awaited<ReturnType<typeof authoriseTrigger>>;
    try {
      authorised = await authoriseTrigger({ job: data, stage, config, forge, botLogin, permissions });
    } catch (error) {
      log.warn("permission check failed; job delayed", { error });
      return await requeue(job, token, Date.now() + config.runner.retryBackoff);
    }
    if (!authorised.ok) {
      const stopped = await end(record, "stopped", { reason: `not started: ${authorised.reason}` });
      await refuseTrigger({
        redis,
        prefix,
        store,
        forge,
        job: data,
        stage,
        reply: authorised.reply,
        log,
        record: stopped,
      });
      return { runId: data.runId, state: "stopped" };
    }
    // A fork PR starts nothing unless `pullRequests.forks: read-only` (fork-policy.ts); asked of the forge.
    let fork: Awaited<ReturnType<typeof checkForkPolicy>>;
    try {
      fork = await checkForkPolicy(data, config, forge);
    } catch (error) {
      log.warn("pull request not read; job delayed", { error });
      return await requeue(job, token, Date.now() + config.runner.retryBackoff);
    }
    if (!fork.ok) {
      const stopped = await end(record, "stopped", { reason: `not started: ${fork.reason}` });
      await refuseFork({ redis, prefix, store, forge, job: data, check: fork, record: stopped, log });
      return { runId: data.runId, state: "stopped" };
    }

    // Triggers of an issue run in the order they came; a second one for a stage already waiting adds nothing.
    const turn = await takeTurn(
      // The job's own queue (a protected field of Job): the order's stale entries are checked against it.
      { redis, prefix, store, queue: (job as unknown as { queue: MinimalQueue }).queue },
      data,
    );
    if (turn.kind === "coalesced") {
      const reason = coalescedReason(turn.into, data.stage, key);
      await end(record, "stopped", { reason });
      await store.appendLog(data.runId, "system", reason);
      log.info("trigger coalesced into a queued run", { into: turn.into });
      return { runId: data.runId, state: "stopped" };
    }
    if (turn.kind === "wait") {
      log.debug("an earlier trigger of the issue waits; job delayed", { behind: turn.behind });
      // Farther back waits longer (at most 20 turns' worth): 100 waiting jobs must not all poll Redis every turn.
      const turns = Math.min(turn.position, 20);
      return await requeue(job, token, Date.now() + settings.lockedRetryMs * turns * (0.75 + Math.random() * 0.5));
    }

    const controller = new AbortController();
    const abort = (cause: AbortCause) => abortRun(controller, cause);
    const lease = await holdLease({
      redis,
      prefix,
      issue: key,
      token: `${runner.id}:${data.runId}:${randomUUID()}`,
      ttlMs: settings.leaseTtlMs,
      logger: log,
      onLost: (why) => abort({ kind: "lease", why }),
    });
    if (!lease) {
      // Another run holds the issue: wait our turn (jitter spreads the retries of many waiting jobs).
      log.debug("issue busy; job delayed");
      return await requeue(job, token, Date.now() + settings.lockedRetryMs * (0.75 + Math.random() * 0.5));
    }

    const unwatch = queue.stopWatcher.watch({ ...target, onStop: (request) => abort({ kind: "stop", request }) });
    runner.live.set(data.runId, controller);
    let progressTimer: NodeJS.Timeout | undefined;
    try {
      // Re-read under the lease: a stalled copy of this job may have finished it meanwhile.
      const fresh = await store.get(data.runId);
      if (!fresh || isTerminal(fresh.state)) return { runId: data.runId, state: fresh?.state ?? "failed" };
      // Under the lease, right before the agent: a replayed or long-queued trigger whose label or comment is gone starts nothing.
      let holds: Awaited<ReturnType<typeof triggerStillHolds>>;
      try {
        holds = await triggerStillHolds(data, stage, forge);
      } catch (error) {
        log.warn("could not check the trigger; job delayed", { error });
        return await requeue(job, token, Date.now() + config.runner.retryBackoff);
      }
      if (!holds.ok) {
        const stopped = await end(fresh, "stopped", { reason: `not started: ${holds.reason}` });
        await triggerGone({ store, forge: forges, job: data, record: stopped, log });
        return { runId: data.runId, state: "stopped" };
      }
      const start = await store.update(data.runId, {
        state: "running",
        startedAt: Date.now(),
        runner: runner.id,
        attempts: fresh.attempts + 1,
        reason: "",
      });
      if (!start.applied || !start.record) return { runId: data.runId, state: start.record?.state ?? "failed" };
      // Started: the next trigger of the issue is the head of its order now (it still waits for the lease).
      await leaveOrder({ redis, prefix }, data);
      let current: RunRecord = start.record;
      await store.appendLog(data.runId, "system", `attempt ${current.attempts} started on runner ${runner.id}`);
      const sink = forges.statusSink(forge, current, data.ref);
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
      progressTimer = setInterval(() => void flush(), settings.progressIntervalMs);

      let result: StageResult;
      try {
        result = await runStage({
          job: data,
          stage,
          config,
          configDir: settings.configDir,
          // The prompt reads the issue as the trigger saw it (issue-as-triggered.ts).
          forge: forgeAsTriggered(forge, data, holds.issue),
          ...tools,
          signal: controller.signal,
          logger: log,
          onProgress: (patch) => Object.assign(pending, patch),
          // The record holds what earlier attempts of this run used (0 on the first attempt).
          spent: { turns: current.turns, costUsd: current.costUsd },
          ...(queue.spend ? { budget: createRunBudget(queue.spend, spendScope(data.ref), log) } : {}),
          onLog: (stream, line) => void store.appendLog(data.runId, stream, line).catch(() => {}),
          ...(fresh.checkpoint ? { checkpoint: fresh.checkpoint } : {}),
          saveCheckpoint: async (checkpoint) => {
            // The agent's last counters go in with it: a re-picked job reads them from the record.
            await flush();
            try {
              const res = await store.update(data.runId, { checkpoint });
              if (res.record) current = res.record;
            } catch (error) {
              // Publishing goes on; only a crash from here on would run the agent again.
              log.warn("checkpoint not stored", { error });
            }
          },
        });
      } catch (error) {
        log.error("stage run crashed", { error });
        result = { state: "failed", reason: `[runner] ${(error as Error).message}` };
      }
      clearInterval(progressTimer);
      await flush();

      const decision = decideAfterRun({
        result,
        cause: abortCauseOf(controller.signal),
        retriesUsed: (job.data as { transientRetries?: number }).transientRetries ?? 0,
        retries: config.runner,
        lockedRetryMs: settings.lockedRetryMs,
      });
      if (decision.kind === "requeue") {
        const { record: back } = await store.update(data.runId, { state: "queued", reason: decision.reason });
        await store.appendLog(data.runId, "system", decision.log);
        // This attempt's last edit must land before the job can come up again: a late coalesced
        // `queued` edit could otherwise overwrite the next attempt's (or a stop's) status.
        if (back) await sink.finish(back);
        log.info("run returned to the queue", { why: decision.why });
        await rejoinOrder({ redis, prefix }, data);
        return await requeue(job, token, Date.now() + decision.delayMs);
      }
      if (decision.kind === "retry") {
        await job.updateData({ ...(job.data as object), transientRetries: decision.retriesUsed });
        const { record: back } = await store.update(data.runId, { state: "queued", reason: decision.reason });
        await store.appendLog(data.runId, "system", decision.reason);
        if (back) await sink.finish(back);
        log.info("transient failure; retrying", { delayMs: decision.delayMs, why: decision.why });
        await rejoinOrder({ redis, prefix }, data);
        return await requeue(job, token, Date.now() + decision.delayMs);
      }

      if (decision.labelFailed) {
        await forge.addLabels(data.ref, [config.labels.failed]).catch((error) => {
          log.warn("failed label not added", { error });
        });
      }
      await store.appendLog(data.runId, "system", decision.log);
      const final = await end(current, decision.state, decision.patch, result);
      await announce({ data, stage, forge, result, final, sink, log });
      log.info("run ended", { state: result.state });
      return { runId: data.runId, state: result.state };
    } finally {
      clearInterval(progressTimer);
      unwatch();
      runner.live.delete(data.runId);
      await lease.release();
    }
  }
}
