import { issueKey, type Logger, type RunRecord, type Stage } from "@forgehand/core";
import type { ForgeClient, ForgeClients } from "@forgehand/forge";
import { type RunStore, recordTriggerDenied, type StageJob } from "@forgehand/queue";
import type { Redis } from "ioredis";
import type { StatusSinkFactory } from "./ports";

/** How long "already told this issue about this stage" is remembered. */
const REPLY_ONCE_TTL_S = 30 * 86_400;

/** Redis key that makes the refusal reply once per issue and stage. */
export function deniedReplyKey(prefix: string, job: StageJob): string {
  return `${prefix}:denied-reply:${issueKey(job.ref)}:${job.stage}`;
}

/**
 * A trigger whose sender may not start the stage: no run, the label is left alone (removing it
 * would fire a delivery and hide what the person did), it is counted, and the person is told why —
 * once per issue and stage, so relabelling cannot make the bot spam the issue.
 */
export async function refuseTrigger(o: {
  redis: Redis;
  prefix: string;
  store: RunStore;
  forge: ForgeClient;
  job: StageJob;
  stage: Stage;
  reply: string;
  record: RunRecord;
  log: Logger;
}): Promise<void> {
  o.log.info("trigger refused: sender lacks permission", { by: o.job.trigger.by, reason: o.record.reason });
  await o.store.appendLog(o.job.runId, "system", o.record.reason ?? "not authorised").catch(() => {});
  await recordTriggerDenied(o.redis, o.prefix, o.job.trigger.kind).catch((error) =>
    o.log.warn("denied-trigger metric not recorded", { error }),
  );
  const first = await o.redis.set(deniedReplyKey(o.prefix, o.job), o.job.runId, "EX", REPLY_ONCE_TTL_S, "NX");
  if (first !== "OK") return;
  await o.forge.createComment(o.job.ref, o.reply).catch((error) => o.log.warn("refusal reply not posted", { error }));
}

/** A run whose trigger no longer holds: logged, and its status comment says it was not started and why. */
export async function triggerGone(o: {
  store: RunStore;
  forge: { clients: ForgeClients; statusSink: StatusSinkFactory };
  job: StageJob;
  record: RunRecord;
  log: Logger;
}): Promise<void> {
  o.log.info("run not started: its trigger no longer holds", { reason: o.record.reason });
  await o.store.appendLog(o.job.runId, "system", o.record.reason ?? "trigger gone").catch(() => {});
  const forge = o.forge.clients.for(o.job.ref.repo.forge, o.job.ref.installationId);
  await o.forge
    .statusSink(forge, o.record, o.job.ref)
    .finish(o.record)
    .catch((error) => o.log.warn("final status comment not posted", { error }));
}
