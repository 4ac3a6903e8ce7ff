import type { Logger } from "@forgehand/core";
import { isSameRunning, readProc } from "@forgehand/supervisor";
import type { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { agentsVerifiedGone } from "./agents-verified-gone";
import { type HostIdentity, hostIdentity, sameHost } from "./host-identity";
import { recoverDeadRunner } from "./recover-dead-runner";
import { heartbeatKey, parseBeacon, type RunnerBeacon, runnersKey } from "./runner-beacon";

export interface RunnerLivenessOptions {
  redis: Redis;
  prefix: string;
  id: string;
  registryDir: string;
  queue: Queue;
  worker: Worker;
  /** Heartbeat key lifetime: a runner whose key lapsed is dead to peers on other hosts. */
  heartbeatTtlMs: number;
  /** How often the heartbeat is renewed and peers are checked. */
  heartbeatIntervalMs: number;
  /** Issue lease lifetime: a dead runner whose agents cannot be verified gone keeps its leases until they lapse. */
  leaseTtlMs: number;
  logger: Logger;
  /** @defaultValue hostIdentity() */
  host?: HostIdentity;
}

export interface RunnerLiveness {
  /** Stops beating and checking, and withdraws this runner's heartbeat and beacon. */
  close(): Promise<void>;
}

/**
 * Beats (`<prefix>:runner:<id>`, PX heartbeatTtlMs, and a beacon in `<prefix>:runners`) and, on every beat, looks
 * at the other runners:
 * - same host (hostname, boot and pid namespace equal): dead means its process is gone, whatever its heartbeat
 *   says, so a runner that is merely slow (busy event loop, Redis lag) is never declared dead. Once its pid
 *   registry holds none of its entries (its guardian verified the kills), its jobs go back to wait and its issue
 *   leases are freed at once. Entries still there: nothing until its heartbeat and a lease TTL after its last
 *   beat have passed, then only the jobs move; its leases lapse on their own.
 * - other host: nothing can be verified. Once its heartbeat lapsed, its jobs go back to wait; the re-picked job
 *   starts when the lease lapses (a runner that cannot renew stops its agent before that, see hold-lease.ts).
 */
export function startRunnerLiveness(opts: RunnerLivenessOptions): RunnerLiveness {
  const { redis, prefix, id, logger } = opts;
  const me = opts.host ?? hostIdentity();
  const startTime = readProc(process.pid)?.startTime;
  let stopped = false;
  let busy: Promise<void> | undefined;

  async function beat() {
    const beacon: RunnerBeacon = {
      id,
      workerId: opts.worker.id,
      pid: process.pid,
      ...(startTime !== undefined ? { startTime } : {}),
      host: me,
      registryDir: opts.registryDir,
      at: Date.now(),
    };
    await redis
      .multi()
      .set(heartbeatKey(prefix, id), String(beacon.at), "PX", opts.heartbeatTtlMs)
      .hset(runnersKey(prefix), id, JSON.stringify(beacon))
      .exec();
  }

  async function checkPeer(peerId: string, raw: string) {
    const peer = parseBeacon(raw);
    // A beacon this runner cannot read steers nothing; it is dropped once its heartbeat is gone.
    if (!peer || peer.id !== peerId) {
      if (!(await redis.exists(heartbeatKey(prefix, peerId)))) await forget(peerId, raw);
      return;
    }
    const beating = (await redis.exists(heartbeatKey(prefix, peerId))) === 1;
    if (sameHost(me, peer.host)) {
      if (isSameRunning(peer.pid, peer.startTime)) return;
      if (await agentsVerifiedGone(peer)) return recover(peer, raw, true);
      if (beating || Date.now() < peer.at + opts.leaseTtlMs) return;
      logger.warn("dead runner's agents not verified gone; its leases lapse on their own", { peer: peer.id });
      return recover(peer, raw, false);
    }
    if (!beating) return recover(peer, raw, false);
  }

  async function recover(peer: RunnerBeacon, raw: string, releaseLeases: boolean) {
    const { moved, released } = await recoverDeadRunner(opts, peer, releaseLeases);
    await forget(peer.id, raw);
    logger.warn("runner dead; its jobs moved back", { peer: peer.id, jobs: moved, leasesReleased: released });
  }

  /** Drops a beacon unless it changed meanwhile (a runner restarted under the same id beats anew). */
  async function forget(peerId: string, raw: string) {
    const key = runnersKey(prefix);
    await redis.eval(
      "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0",
      1,
      key,
      peerId,
      raw,
    );
  }

  async function tick() {
    await beat();
    const beacons = await redis.hgetall(runnersKey(prefix));
    for (const [peerId, raw] of Object.entries(beacons)) {
      if (stopped) return;
      if (peerId === id) continue;
      await checkPeer(peerId, raw).catch((error) => logger.warn("checking a runner failed", { peer: peerId, error }));
    }
  }

  const run = () => {
    if (stopped || busy) return;
    busy = tick()
      .catch((error) => logger.debug("heartbeat failed", { error }))
      .finally(() => {
        busy = undefined;
      });
  };
  run();
  const timer = setInterval(run, opts.heartbeatIntervalMs);
  return {
    async close() {
      stopped = true;
      clearInterval(timer);
      await busy;
      // A runner that closed is not dead: its jobs went back on close. Peers need not act on it.
      await redis
        .multi()
        .del(heartbeatKey(prefix, id))
        .hdel(runnersKey(prefix), id)
        .exec()
        .catch((error) => logger.debug("heartbeat not withdrawn", { error }));
    },
  };
}
