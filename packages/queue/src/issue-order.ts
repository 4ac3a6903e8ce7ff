import type { ChainableCommander, Redis } from "ioredis";

/**
 * The stage runs waiting for one issue, in the order they were requested: a sorted set (score: the job's
 * `requestedAt`) beside the BullMQ jobs, not a queue of its own. BullMQ still holds and delivers the jobs;
 * this only says which of an issue's waiting jobs may take the issue's lease next, and which stage is
 * already waiting (a second trigger for it is coalesced). A run leaves the set when it starts.
 */
export function issueOrderKey(prefix: string, issue: string): string {
  return `${prefix}:issue-order:${issue}`;
}

/** How long an issue's order set lives after its last add: as long as the jobs it names are kept. */
export const ISSUE_ORDER_TTL_S = 7 * 24 * 3600;

/** One waiting run of an issue. */
export interface OrderEntry {
  runId: string;
  stage: string;
  requestedAt: number;
}

/** The set member of a run: its id and stage (the member is what coalescing reads). */
export function orderMember(entry: Pick<OrderEntry, "runId" | "stage">): string {
  return JSON.stringify([entry.runId, entry.stage]);
}

/** Queues, on a MULTI or pipeline, the add of a waiting run (NX: a re-add keeps its first place). */
/** Queues the entry on `multi`; returns how many commands it queued (a batched EXEC's callers count replies). */
export function addOrderOn(multi: ChainableCommander, prefix: string, issue: string, entry: OrderEntry): number {
  const key = issueOrderKey(prefix, issue);
  multi.zadd(key, "NX", entry.requestedAt, orderMember(entry));
  multi.expire(key, ISSUE_ORDER_TTL_S);
  return 2;
}

/** Adds a waiting run now. */
export async function addOrder(redis: Redis, prefix: string, issue: string, entry: OrderEntry): Promise<void> {
  const multi = redis.multi();
  addOrderOn(multi, prefix, issue, entry);
  await multi.exec();
}

/** Removes a run from its issue's waiting order (it started, or ended without running). */
export async function removeOrder(redis: Redis, prefix: string, issue: string, entry: OrderEntry): Promise<void> {
  await redis.zrem(issueOrderKey(prefix, issue), orderMember(entry));
}

/** The issue's waiting runs, oldest first (equal times: by member, the same order for every runner). Bad members are skipped. */
export async function readOrder(redis: Redis, prefix: string, issue: string): Promise<OrderEntry[]> {
  const flat = await redis.zrange(issueOrderKey(prefix, issue), 0, -1, "WITHSCORES");
  const out: OrderEntry[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    try {
      const [runId, stage] = JSON.parse(flat[i] as string) as unknown[];
      if (typeof runId === "string" && typeof stage === "string")
        out.push({ runId, stage, requestedAt: Number(flat[i + 1]) });
    } catch {
      // Not ours: ignored, never blocks the issue.
    }
  }
  return out;
}
