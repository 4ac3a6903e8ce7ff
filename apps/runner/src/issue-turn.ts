import { issueKey, isTerminal } from "@forgehand/core";
import { addOrder, type OrderEntry, type RunStore, readOrder, removeOrder, type StageJob } from "@forgehand/queue";
import { Job, type MinimalQueue } from "bullmq";
import type { Redis } from "ioredis";

/** Whether a stage job may go for the issue's lease now. */
export type Turn =
  | { kind: "go" }
  /** An earlier trigger of the issue waits: this one waits behind it. */
  | { kind: "wait"; behind: string; position: number }
  /** A run of the same stage already waits for the issue: this trigger adds nothing to it. */
  | { kind: "coalesced"; into: string };

export interface TurnDeps {
  redis: Redis;
  prefix: string;
  store: RunStore;
  /** The stage queue: an order entry whose job is gone or finished is dropped, never waited for. */
  queue: MinimalQueue;
}

/**
 * Triggers people and the forge repeat (a label, `/run`) are coalesced; `/retry` resumes a session of its
 * own, and operator runs (`forgehand run`, the API) are each asked for on purpose: never coalesced.
 */
export function coalesces(job: Pick<StageJob, "trigger">): boolean {
  return job.trigger.kind === "label" || job.trigger.kind === "command";
}

const entryOf = (job: StageJob): OrderEntry => ({ runId: job.runId, stage: job.stage, requestedAt: job.requestedAt });

/** Whether an entry still names a run that can take its turn (its job waits, or runs). */
async function live(deps: TurnDeps, entry: OrderEntry): Promise<boolean> {
  const record = await deps.store.get(entry.runId);
  if (record && isTerminal(record.state)) return false;
  const job = await Job.fromId(deps.queue, entry.runId);
  if (!job) return false;
  const state = await job.getState();
  return state !== "completed" && state !== "failed" && state !== "unknown";
}

/**
 * Decides a job's turn on its issue: triggers run in the order they came (the earliest waiting one goes
 * first, whatever order BullMQ's retries bring them up in), and a trigger for a stage that already waits
 * is coalesced into that one (one run after the current one, not one per trigger; see `coalesces`). Stale entries (job gone or ended) are removed as found.
 */
export async function takeTurn(deps: TurnDeps, job: StageJob): Promise<Turn> {
  const issue = issueKey(job.ref);
  const me = entryOf(job);
  // A job produced before the order set existed, or a started run brought back (stalled, requeued): its place.
  await addOrder(deps.redis, deps.prefix, issue, me);
  const mine = JSON.stringify([me.runId, me.stage]);
  const order = await readOrder(deps.redis, deps.prefix, issue);
  // How many wait ahead (stale ones included): a job far back polls less often than the next in line.
  const position = Math.max(
    1,
    order.findIndex((e) => e.runId === me.runId),
  );
  for (const entry of order) {
    if (entry.runId === me.runId) return { kind: "go" };
    const other = JSON.stringify([entry.runId, entry.stage]);
    const earlier = entry.requestedAt < me.requestedAt || (entry.requestedAt === me.requestedAt && other < mine);
    if (!earlier) continue;
    if (!(await live(deps, entry))) {
      await removeOrder(deps.redis, deps.prefix, issue, entry);
      continue;
    }
    if (entry.stage === me.stage && coalesces(job)) return { kind: "coalesced", into: entry.runId };
    return { kind: "wait", behind: entry.runId, position };
  }
  return { kind: "go" };
}

/** Why a coalesced trigger's run ended without running (the same words at enqueue and at pick-up). */
export function coalescedReason(into: string, stage: string, issue: string): string {
  return `not started: run ${into} of stage "${stage}" is already queued for ${issue}`;
}

/**
 * The run of `job`'s stage already waiting for the issue (not started: a run leaves the order when it starts),
 * if `job`'s trigger coalesces. Asked before a job is added, so a storm of `/run` comments leaves one queued run
 * per issue and stage instead of a backlog of jobs that each take a worker to find out they are not needed.
 */
export async function waitingRunOfStage(deps: TurnDeps, job: StageJob): Promise<string | undefined> {
  if (!coalesces(job)) return undefined;
  const issue = issueKey(job.ref);
  for (const entry of await readOrder(deps.redis, deps.prefix, issue)) {
    if (entry.runId === job.runId || entry.stage !== job.stage) continue;
    if (await live(deps, entry)) return entry.runId;
    await removeOrder(deps.redis, deps.prefix, issue, entry);
  }
  return undefined;
}

/** The run started, or ended without running: it no longer waits. */
export function leaveOrder(deps: Pick<TurnDeps, "redis" | "prefix">, job: StageJob): Promise<void> {
  return removeOrder(deps.redis, deps.prefix, issueKey(job.ref), entryOf(job));
}

/** The run goes back to the queue (retry, requeue): it keeps its first place. */
export function rejoinOrder(deps: Pick<TurnDeps, "redis" | "prefix">, job: StageJob): Promise<void> {
  return addOrder(deps.redis, deps.prefix, issueKey(job.ref), entryOf(job));
}
