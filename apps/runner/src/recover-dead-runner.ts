import { issueKey } from "@forgehand/core";
import { leaseKey, StageJob } from "@forgehand/queue";
import type { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { RunnerBeacon } from "./runner-beacon";

/*
 * Hands a dead runner's stage jobs back to BullMQ and, when its agents are verified gone, frees its issue leases.
 * Input:
 *   KEYS[1] the queue's 'stalled' set, KEYS[2] its 'stalled-check' key,
 *   KEYS[3 .. 2+n] job lock keys, KEYS[3+n ..] lease keys
 *   ARGV[1] '<workerId>:' (the prefix of every lock the dead worker holds), ARGV[2] n,
 *   ARGV[3 .. 2+n] job ids, ARGV[3+n ..] the lease token read for each lease key (same index as its key)
 * A lock is deleted only while the dead worker still holds it, and the job is marked stalled: BullMQ's own
 * moveStalledJobsToWait then moves it back to wait (clearing 'stalled-check' lets it run now). A lease is
 * deleted only while it still holds the exact token the dead runner's run took.
 * Output: { moved job ids, leases released }
 */
const RELEASE_DEAD = `
local n = tonumber(ARGV[2])
local moved = {}
for i = 1, n do
  local holder = redis.call('GET', KEYS[2 + i])
  if holder and string.sub(holder, 1, #ARGV[1]) == ARGV[1] then
    redis.call('DEL', KEYS[2 + i])
    redis.call('SADD', KEYS[1], ARGV[2 + i])
    table.insert(moved, ARGV[2 + i])
  end
end
local released = 0
for i = 3 + n, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then
    redis.call('DEL', KEYS[i])
    released = released + 1
  end
end
if #moved > 0 then redis.call('DEL', KEYS[2]) end
return {moved, released}`;

export interface RecoverDeadRunnerDeps {
  redis: Redis;
  prefix: string;
  queue: Queue;
  /** This runner's stage worker: its (BullMQ's) stalled check moves the jobs. */
  worker: Worker;
}

/**
 * Moves the active stage jobs whose locks `dead`'s worker holds back to wait, at once, with BullMQ's stalled-jobs
 * check. With `releaseLeases` (only when the dead runner's agents are verified gone) the issue leases its runs
 * held are deleted too, so the re-picked job starts its agent without waiting out the lease TTL.
 */
export async function recoverDeadRunner(
  deps: RecoverDeadRunnerDeps,
  dead: RunnerBeacon,
  releaseLeases: boolean,
): Promise<{ moved: string[]; released: number }> {
  const { redis, prefix, queue } = deps;
  const mark = `${dead.workerId}:`;
  const jobIds: string[] = [];
  const leases: { key: string; token: string }[] = [];
  for (const jobId of await redis.lrange(queue.toKey("active"), 0, -1)) {
    const holder = await redis.get(`${queue.toKey(jobId)}:lock`);
    if (!holder?.startsWith(mark)) continue;
    jobIds.push(jobId);
    if (!releaseLeases) continue;
    const parsed = StageJob.safeParse((await queue.getJob(jobId))?.data);
    if (!parsed.success) continue;
    const key = leaseKey(prefix, issueKey(parsed.data.ref));
    // Read while the dead worker still holds the job: a token of its run (`<runner>:<runId>:<uuid>`) is its own.
    const token = await redis.get(key);
    if (token?.startsWith(`${dead.id}:${parsed.data.runId}:`)) leases.push({ key, token });
  }
  if (jobIds.length === 0) return { moved: [], released: 0 };
  const [moved, released] = (await redis.eval(
    RELEASE_DEAD,
    2 + jobIds.length + leases.length,
    queue.toKey("stalled"),
    queue.toKey("stalled-check"),
    ...jobIds.map((id) => `${queue.toKey(id)}:lock`),
    ...leases.map((l) => l.key),
    mark,
    String(jobIds.length),
    ...jobIds,
    ...leases.map((l) => l.token),
  )) as [string[], number];
  // BullMQ's own check (private in its types, public in its runtime): moves every stalled job without a lock.
  if (moved.length > 0)
    await (deps.worker as unknown as { moveStalledJobsToWait(): Promise<void> }).moveStalledJobsToWait();
  return { moved, released };
}
