import {
  commandJobIdFor,
  DELIVERY_TTL_S,
  deliveryKey,
  encodeLabelSet,
  jobOptionsFor,
  LABEL_SET_TTL_S,
  labelSetKey,
  StopRequest,
  stopChannel,
  stopFlagKey,
} from "@forgehand/queue";
import { Job, type Queue } from "bullmq";
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

// Input:  KEYS[1] delivery key, KEYS[2..1+n] stop flag keys, KEYS[2+n] label-set key (when ARGV[5] ~= "")
//         ARGV[1] delivery ttl (s), ARGV[2] n stops, ARGV[3] stop flag ttl (s), ARGV[4] stop channel,
//         ARGV[5] label-set value or "", ARGV[6] label-set ttl (s), ARGV[7] delivery record, ARGV[8..7+n] stop payloads
// Output: 1 when the delivery was new and its stops/label set were written, 0 for a duplicate (nothing written).
const COMMIT_DELIVERY = `
if not redis.call('SET', KEYS[1], ARGV[7], 'NX', 'EX', ARGV[1]) then return 0 end
local n = tonumber(ARGV[2])
for i = 1, n do
  redis.call('SET', KEYS[1 + i], ARGV[7 + i], 'EX', ARGV[3])
  redis.call('PUBLISH', ARGV[4], ARGV[7 + i])
end
if ARGV[5] ~= '' then redis.call('SET', KEYS[2 + n], ARGV[5], 'EX', ARGV[6]) end
return 1
`;

const STOP_FLAG_TTL_S = 7 * 24 * 3600;

/** Name of COMMIT_DELIVERY once defined on a connection: sent by SHA (EVALSHA) after its first use there. */
const COMMIT_COMMAND = "fhCommitDelivery";

type CommitCommander = { [COMMIT_COMMAND]: (...args: (string | number)[]) => unknown };

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

async function queueClient(queue: Queue, ms: number): Promise<Redis> {
  const known = readyClients.get(queue);
  if (known) return known;
  const client = (await within(queue.client, ms, "the queue connection").catch((error: Error) => {
    // A queue whose connection ended never recovers its client promise; say so instead of a 500.
    throw error instanceof RedisUnavailableError
      ? error
      : new RedisUnavailableError(`[webhook] queue connection failed: ${error.message}`, { cause: error });
  })) as unknown as Redis;
  if (!(COMMIT_COMMAND in client.scriptsSet)) client.defineCommand(COMMIT_COMMAND, { lua: COMMIT_DELIVERY });
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
  const client = await queueClient(target.stageQueue, ms);
  const stops = route.stops.map((s) => JSON.stringify(StopRequest.parse(s)));
  const stopKeys = route.stops.map((s) => stopFlagKey(prefix, { issue: s.issue }));
  const labelValue = route.labelSet && route.issue ? encodeLabelSet(route.labelSet) : "";
  const keys = [deliveryKey(prefix, forge, deliveryId), ...stopKeys];
  if (labelValue && route.issue) keys.push(labelSetKey(prefix, route.issue));
  const jobs = [
    ...route.stageJobs.map((data) => ({ queue: target.stageQueue, name: "stage", data, id: data.runId })),
    ...(route.commandJob
      ? [
          {
            queue: target.commandQueue,
            name: "command",
            data: route.commandJob,
            id: commandJobIdFor(forge, route.commandJob.ref.repo.fullName, route.commandJob.commentId),
          },
        ]
      : []),
  ];
  const record = JSON.stringify({ at: Date.now(), jobs: jobs.map((j) => j.id) });
  const reply = await batchMulti(
    client,
    (multi) => {
      (multi as unknown as CommitCommander)[COMMIT_COMMAND](
        keys.length,
        ...keys,
        DELIVERY_TTL_S,
        stops.length,
        STOP_FLAG_TTL_S,
        stopChannel(prefix),
        labelValue,
        LABEL_SET_TTL_S,
        record,
        ...stops,
      );
      for (const job of jobs) {
        const instance = new Job(job.queue, job.name, job.data, jobOptionsFor(job.id), job.id);
        // Queued on the pipeline synchronously; its own promise only mirrors the queueing, read below.
        instance.addJob(multi as never).catch(() => {});
      }
      return 1 + jobs.length;
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
  if (marked === 0) return { duplicate: true, jobIds: jobs.map((j) => j.id) };
  if (jobErr) {
    await undoMark(
      redis,
      keys[0] as string,
      labelValue && route.issue ? labelSetKey(prefix, route.issue) : undefined,
      previousLabelSet,
    );
    throw new RedisUnavailableError(`[webhook] could not enqueue: ${jobErr.message}`, { cause: jobErr });
  }
  return { duplicate: false, jobIds: jobs.map((j) => j.id) };
}

/** Best effort: lets a redelivery of a half-failed delivery be accepted and re-diffed. */
async function undoMark(redis: Redis, markKey: string, labelKey?: string, previous?: string | null): Promise<void> {
  const multi = redis.multi().del(markKey);
  if (labelKey) {
    if (previous) multi.set(labelKey, previous, "EX", LABEL_SET_TTL_S);
    else multi.del(labelKey);
  }
  await multi.exec().catch(() => {});
}
