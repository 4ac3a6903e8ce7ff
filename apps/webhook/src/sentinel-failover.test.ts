import { createRedis } from "@forgehand/queue";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { uniquePrefix } from "../../../test/helpers/redis";
import { type SentinelGroup, startSentinelGroup } from "../../../test/helpers/redis-sentinel";
import { createApp } from "./create-app";
import { githubDelivery, githubExample, QueueProbe, testDeps } from "./testing/delivery-fixtures";

// A real Sentinel group (redis-server primary + replica, three redis-sentinel): the primary is SIGKILLed while
// deliveries keep arriving. What a 202 accepted must still be there on the promoted replica.
// Each test gets its own group: a lagging replica must not colour the failover test's election.
let group: SentinelGroup;
beforeEach(async () => {
  group = await startSentinelGroup({ downAfterMs: 1_000 });
}, 60_000);
afterEach(async () => {
  await group?.stop();
});

function labeledDelivery(id: string, issue: number) {
  const p = githubExample("issues", "labeled");
  (p.label as { name: string }).name = "agent:analyse";
  (p.issue as { number: number }).number = issue;
  return githubDelivery("issues", p, { id });
}

describe("Redis Sentinel failover", () => {
  it("a delivery the replica has not confirmed is not accepted (503), and is once the replica is back", async () => {
    const prefix = uniquePrefix("sentinel-wait");
    const redis = createRedis(group.url, "webhook");
    const deps = await testDeps(group.url, prefix, { redis });
    const app = createApp(deps);
    try {
      expect((await app.request("/webhooks/github", labeledDelivery("wait-1", 1))).status).toBe(202);
      group.signal(group.ports.replica, "SIGSTOP");
      const lagging = await app.request("/webhooks/github", labeledDelivery("wait-2", 2));
      expect(lagging.status).toBe(503);
      expect(((await lagging.json()) as { error: string }).error).toMatch(/not on a replica/);
      group.signal(group.ports.replica, "SIGCONT");
      // The forge's redelivery of the same id: the primary has it, so it is a duplicate, not a second job.
      const again = await app.request("/webhooks/github", labeledDelivery("wait-2", 2));
      expect([200, 202]).toContain(again.status);
      expect((await app.request("/webhooks/github", labeledDelivery("wait-3", 3))).status).toBe(202);
    } finally {
      group.signal(group.ports.replica, "SIGCONT");
      redis.disconnect();
    }
  }, 60_000);

  it("SIGKILL of the primary mid-storm: a few seconds of 503s, then 202s again; every accepted delivery survives", async () => {
    const prefix = uniquePrefix("sentinel");
    const redis = createRedis(group.url, "webhook");
    const deps = await testDeps(group.url, prefix, { redis });
    const app = createApp(deps);
    const accepted: string[] = [];
    const statuses: { at: number; status: number }[] = [];
    let n = 0;
    const send = async () => {
      n += 1;
      const id = `storm-${n}`;
      const res = await app.request("/webhooks/github", labeledDelivery(id, 1000 + n));
      statuses.push({ at: Date.now(), status: res.status });
      if (res.status === 202) accepted.push(id);
      else if (process.env.DEBUG_SENTINEL) console.log(id, res.status, await res.clone().text());
      else expect(res.status).toBe(503);
    };
    for (let i = 0; i < 30; i++) await send();
    expect(accepted.length).toBe(30);
    const oldPrimary = await group.killPrimary();
    const killedAt = Date.now();
    let switchedAt = 0;
    let recoveredAt = 0;
    let forcedAt = 0;
    // Keep delivering until 20 more are accepted after the failover (bounded: 90 s).
    while (Date.now() - killedAt < 90_000) {
      const named = await group.primaryPort();
      if (!switchedAt && named !== 0 && named !== oldPrimary) switchedAt = Date.now();
      // What is under test is forgehand's side (reconnect, replica-confirmed acceptance, nothing lost), not the
      // sentinels' election: on a starved CI machine their vote can stall (TILT mode, a lost vote that waits out
      // the failover timeout), so while no new primary is named the failover is forced, every 10 s.
      if (!switchedAt && Date.now() - killedAt > 10_000 && Date.now() - forcedAt > 10_000) {
        forcedAt = Date.now();
        await group.forceFailover();
      }
      await send();
      const last = statuses.at(-1);
      if (last?.status === 202 && last.at > killedAt && !recoveredAt && switchedAt) recoveredAt = last.at;
      if (recoveredAt && accepted.length >= 50) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(switchedAt, "the sentinels named a new primary").toBeGreaterThan(0);
    expect(recoveredAt, "deliveries were accepted again after the failover").toBeGreaterThan(0);
    const outageMs = recoveredAt - killedAt;
    const afterSwitchMs = recoveredAt - switchedAt;
    if (process.env.DEBUG_SENTINEL)
      console.log("outage ms", outageMs, "after switch ms", afterSwitchMs, "forced", forcedAt > 0, "sent", n);
    // forgehand's part: once the sentinels name the new primary, the webhook is back within a few seconds
    // (the connection to the dead primary reconnects and asks the sentinels again).
    expect(afterSwitchMs).toBeLessThan(10_000);
    // down-after 1 s + election: a few seconds, not the 30 s default; a forced failover adds at most ~20 s.
    expect(outageMs).toBeLessThan(forcedAt ? 45_000 : 15_000);
    expect(await group.primaryPort()).not.toBe(oldPrimary);

    const ready = await app.request("/readyz");
    expect(ready.status).toBe(200);

    const reader = createRedis(group.url, "worker");
    const probe = new QueueProbe(reader, prefix);
    try {
      const jobs = JSON.stringify((await probe.stageJobs()).map((j) => j.data));
      const lost = accepted.filter((id) => !jobs.includes(`"${id}"`));
      expect(lost, `accepted deliveries missing on the new primary (outage ${outageMs} ms)`).toEqual([]);
    } finally {
      await probe.close();
      reader.disconnect();
      redis.disconnect();
    }
  }, 150_000);
});
