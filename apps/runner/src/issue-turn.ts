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
function coalesces(job: StageJob): boolean {
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

/** The run started, or ended without running: it no longer waits. */
export function leaveOrder(deps: Pick<TurnDeps, "redis" | "prefix">, job: StageJob): Promise<void> {
  return removeOrder(deps.redis, deps.prefix, issueKey(job.ref), entryOf(job));
}

/** The run goes back to the queue (retry, requeue): it keeps its first place. */
export function rejoinOrder(deps: Pick<TurnDeps, "redis" | "prefix">, job: StageJob): Promise<void> {
  return addOrder(deps.redis, deps.prefix, issueKey(job.ref), entryOf(job));
}
