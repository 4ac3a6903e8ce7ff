import {
  addToMulti,
  awaitReplicas,
  commandJobOn,
  commitDeliveryOn,
  type DeliveryCommit,
  defineCommitDelivery,
  encodeLabelSet,
  replicaAcks,
  requireReplicaAcks,
  stageJobOn,
  undoDeliveryCommit,
} from "@forgehand/queue";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { batchMulti } from "./batch-multi";
import type { Route } from "./route-event";

/** Redis could not take the delivery: answered 503 so the forge shows it failed and it can be redelivered. */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

/** Where a route is written. */
export interface CommitTarget {
  redis: Redis;
  prefix: string;
  stageQueue: Queue;
  commandQueue: Queue;
  /** How long to wait for Redis before answering 503. @defaultValue 2000 */
  timeoutMs?: number;
}

/** The queue's resolved client per queue: awaiting it through a timer on every delivery cost a timer each. */
const readyClients = new WeakMap<Queue, Redis>();

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisUnavailableError(`[webhook] Redis did not answer ${what} within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function queueClient(queue: Queue, ms: number, redis: Redis): Promise<Redis> {
  const known = readyClients.get(queue);
  if (known) return known;
  const client = (await within(queue.client, ms, "the queue connection").catch((error: Error) => {
    // A queue whose connection ended never recovers its client promise; say so instead of a 500.
    throw error instanceof RedisUnavailableError
      ? error
      : new RedisUnavailableError(`[webhook] queue connection failed: ${error.message}`, { cause: error });
  })) as unknown as Redis;
  defineCommitDelivery(client);
  // The commit is written on this client, so its WAIT must be too.
  requireReplicaAcks(client, replicaAcks(redis));
  readyClients.set(queue, client);
  return client;
}

/** Outcome of a commit: a duplicate delivery id writes nothing new. */
export interface CommitResult {
  duplicate: boolean;
  jobIds: string[];
}

/**
 * Writes everything a delivery asks for in ONE MULTI: the delivery-id mark (SET NX), stop
 * requests and the label set (inside a script, so a duplicate writes none of them) and the
 * BullMQ jobs (whose fixed ids make a duplicate's re-add a no-op). MULTIs of deliveries that
 * arrive together share one pipeline write (batchMulti), each still its own transaction. A MULTI
 * that never reached Redis wrote nothing; one whose job add failed has its mark and label set
 * undone, so the forge's redelivery is accepted.
 */
export async function commitRoute(
  target: CommitTarget,
  forge: string,
  deliveryId: string,
  route: Route,
  previousLabelSet?: string | null,
): Promise<CommitResult> {
  const { redis, prefix } = target;
  const ms = target.timeoutMs ?? 2_000;
  if (redis.status !== "ready") throw new RedisUnavailableError(`[webhook] Redis is not connected (${redis.status})`);
  const client = await queueClient(target.stageQueue, ms, redis);
  const jobs = [
    ...route.stageJobs.map((data) => stageJobOn(target.stageQueue, data)),
    ...(route.commandJob ? [commandJobOn(target.commandQueue, forge, route.commandJob)] : []),
  ];
  const jobIds = jobs.map((j) => j.id);
  const commit: DeliveryCommit = {
    forge,
    deliveryId,
    stops: route.stops,
    labelSet: route.labelSet && route.issue ? { issue: route.issue, value: encodeLabelSet(route.labelSet) } : undefined,
    jobIds,
  };
  const reply = await batchMulti(
    client,
    (multi) => {
      commitDeliveryOn(multi, prefix, commit);
      let commands = 1;
      for (const job of jobs) commands += addToMulti(multi, job);
      return commands;
    },
    ms,
  );
  if (!reply.ok)
    throw new RedisUnavailableError(`[webhook] Redis refused the delivery: ${reply.error.message}`, {
      cause: reply.error,
    });
  const results = reply.replies;
  const [markErr, marked] = results[0] ?? [new Error("no reply"), 0];
  const jobErr = results.slice(1).find(([err]) => err)?.[0];
  if (markErr) throw new RedisUnavailableError(`[webhook] could not record the delivery: ${markErr.message}`);
  if (marked === 0) return { duplicate: true, jobIds };
  if (jobErr) {
    await undoDeliveryCommit(redis, prefix, commit, previousLabelSet);
    throw new RedisUnavailableError(`[webhook] could not enqueue: ${jobErr.message}`, { cause: jobErr });
  }
  // Accepted means it survives a failover: under Sentinel the replica must hold it before the 202. Not undone when
  // the replica is late: the primary has it, and a redelivery is then a duplicate (or, after a failover, new).
  const replicated = await within(awaitReplicas(client, ms), ms + 500, "the replica confirmation").catch(() => false);
  if (!replicated) throw new RedisUnavailableError("[webhook] the delivery is not on a replica yet; redeliver it");
  return { duplicate: false, jobIds };
}
