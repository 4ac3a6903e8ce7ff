import { type IssueRef, issueKey, isTerminal, type RunRecord } from "@forgehand/core";
import type { ForgeClients } from "@forgehand/forge";
import { type RunStore, requestStop, type Trigger } from "@forgehand/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { enqueueStage } from "./enqueue-stage";
import type { StatusSinkFactory } from "./ports";
import type { RecordLimits } from "./queued-record";

/** The runner's side of the slash-command handler's dependencies (`CommandDeps` minus config/forge/logger). */
export interface CommandCallbacks {
  stop(ref: IssueRef, by: string): Promise<{ runId?: string; wasRunning: boolean }>;
  enqueueStage(ref: IssueRef, stage: string, trigger: Trigger, opts?: { resumeSessionId?: string }): Promise<string>;
  lastRun(ref: IssueRef): Promise<RunRecord | null>;
  refreshStatus(ref: IssueRef): Promise<void>;
}

/** Builds the callbacks `/stop`, `/retry`, `/run` and `/status` act through. */
export function createCommandCallbacks(deps: {
  redis: Redis;
  prefix: string;
  store: RunStore;
  queue: Queue;
  forges: ForgeClients;
  statusSink: StatusSinkFactory;
  limitsFor(stage: string): RecordLimits;
}): CommandCallbacks {
  const { store } = deps;
  return {
    async stop(ref, by) {
      const latest = await store.latestForIssue(issueKey(ref));
      const live = latest && !isTerminal(latest.state) ? latest : undefined;
      // The issue flag also cancels every queued run of the issue requested before now.
      await requestStop(deps.redis, deps.prefix, {
        issue: issueKey(ref),
        ...(live ? { runId: live.id } : {}),
        by,
        reason: "command",
        at: Date.now(),
      });
      return { ...(live ? { runId: live.id } : {}), wasRunning: live?.state === "running" };
    },
    enqueueStage: (ref, stage, trigger, opts = {}) =>
      enqueueStage(
        deps.queue,
        store,
        {
          ref,
          stage,
          trigger,
          ...(opts.resumeSessionId ? { resumeSessionId: opts.resumeSessionId } : {}),
          ...deps.limitsFor(stage),
        },
        { redis: deps.redis, prefix: deps.prefix },
      ),
    lastRun: (ref) => store.latestForIssue(issueKey(ref)),
    async refreshStatus(ref) {
      const latest = await store.latestForIssue(issueKey(ref));
      if (!latest) return;
      const forge = deps.forges.for(ref.repo.forge, ref.installationId);
      await deps.statusSink(forge, latest, ref).finish(latest);
    },
  };
}
