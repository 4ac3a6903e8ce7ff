import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { join } from "node:path";
import { startRedisServer } from "@forgehand/queue";
import { startChild, track } from "../harness/child";
import type { Figure } from "../harness/figure";
import { fmt } from "../harness/stats";

const SERVER = join(import.meta.dirname, "memory-server.ts");
const TARGET_GROWTH_MIB = 150;
const MiB = 1024 * 1024;

interface Phase {
  name: string;
  /** Peak RSS growth over the idle server, MiB. */
  growthMiB: number;
  statuses: Record<string, number>;
  answered: number;
  sent: number;
  wallMs: number;
}

/** One POST of `bytes` zero-ish bytes, written in 1 MiB chunks; resolves with the status (0: never answered). */
function hostilePost(port: number, bytes: number, signature: string | null): Promise<number> {
  const chunk = Buffer.alloc(MiB, 0x20);
  // Starts like a JSON object, so a read body gets as far as the signature check.
  const first = Buffer.concat([Buffer.from("{"), chunk.subarray(1)]);
  return new Promise((resolve) => {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-github-event": "issues",
      "x-github-delivery": randomUUID(),
      "content-length": String(bytes),
    };
    if (signature) headers["x-hub-signature-256"] = signature;
    let settled = false;
    const done = (status: number) => {
      if (settled) return;
      settled = true;
      resolve(status);
    };
    const req = request({ port, host: "127.0.0.1", path: "/webhooks/github", method: "POST", headers }, (res) => {
      res.resume();
      res.on("end", () => done(res.statusCode ?? 0));
      res.on("error", () => done(res.statusCode ?? 0));
    });
    // An answer may come (and the socket close) before the body is all written: that is the point.
    req.on("error", () => setTimeout(() => done(0), 1_000));
    let left = bytes;
    const more = () => {
      while (left > 0 && !req.destroyed) {
        const n = Math.min(left, MiB);
        const piece = (left === bytes ? first : chunk).subarray(0, n);
        left -= n;
        if (left === 0) return void req.end(piece);
        if (!req.write(piece)) return void req.once("drain", more);
      }
    };
    more();
  });
}

async function phase(
  server: Awaited<ReturnType<typeof startChild<{ port: number }>>>,
  name: string,
  count: number,
  bytes: number,
  signature: string | null,
): Promise<Phase> {
  server.send({ cmd: "mark" });
  const base = (await server.next()).rss as number;
  const t0 = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: count }, () => hostilePost(server.ready.port, bytes, signature)),
  );
  const wallMs = performance.now() - t0;
  server.send({ cmd: "peak" });
  const peak = (await server.next()).peak as number;
  const tally: Record<string, number> = {};
  for (const s of statuses) tally[String(s)] = (tally[String(s)] ?? 0) + 1;
  return {
    name,
    growthMiB: (peak - base) / MiB,
    statuses: tally,
    answered: statuses.filter((s) => s > 0).length,
    sent: count,
    wallMs,
  };
}

/** Figure 6: peak RSS growth of the webhook under concurrent huge bodies that will never verify. */
export const hostileMemoryFigure: Figure = {
  id: "hostile-memory",
  title: "6. Webhook memory under hostile bodies",
  method:
    "a child process serving forgehand's createApp with serveNode (as `forgehand start`) against a private redis-server samples its own RSS every 5 ms; the bench sends N concurrent POST /webhooks/github of 24 MiB each (Content-Length declared, written in 1 MiB chunks) in two phases: unsigned (no X-Hub-Signature-256), then with a well-formed but wrong signature (the body must be read before it can be refused); growth = peak RSS during the phase minus the idle RSS before it",
  target: `≤ ${TARGET_GROWTH_MIB} MiB peak RSS growth for 32 concurrent unsigned 24 MiB bodies, every request answered`,
  async run(ctx) {
    const smoke = ctx.size === "smoke";
    const count = smoke ? 4 : 32;
    const bytes = smoke ? 2 * MiB : 24 * MiB;
    const redisServer = await startRedisServer({ dataDir: join(ctx.tmpDir, "redis-mem"), persistence: false });
    track(redisServer.child, { last: true });
    const server = await startChild<{ port: number }>(
      SERVER,
      [redisServer.url, `bench-${randomUUID()}`, `fhbench-${randomUUID().slice(0, 8)}`],
      { nodeArgs: ["--expose-gc"] },
    );
    try {
      const phases = [
        await phase(server, "unsigned", count, bytes, null),
        await phase(server, "wrong signature", count, bytes, `sha256=${"0".repeat(64)}`),
      ];
      const unsigned = phases[0] as Phase;
      const met = unsigned.growthMiB <= TARGET_GROWTH_MIB && unsigned.answered === unsigned.sent;
      const line = (p: Phase) =>
        `${p.name}: +${fmt(p.growthMiB)} MiB peak RSS, ${p.answered}/${p.sent} answered (${Object.entries(p.statuses)
          .map(([s, n]) => `${n}× ${s}`)
          .join(", ")})`;
      return {
        status: met ? "met" : "missed",
        headline: phases.map(line).join("; "),
        ...(met ? {} : { reason: "peak RSS growth over the target or requests left unanswered (see details)" }),
        method: hostileMemoryFigure.method
          .replace("N concurrent", `${count} concurrent`)
          .replace(/24 MiB each/, `${bytes / MiB} MiB each`),
        metrics: {
          unsignedGrowthMiB: Math.max(unsigned.growthMiB, 0.001),
          unsignedAnswered: unsigned.answered,
          wrongSignatureGrowthMiB: Math.max((phases[1] as Phase).growthMiB, 0.001),
          wrongSignatureAnswered: (phases[1] as Phase).answered,
        },
        details: [
          "| phase | requests | answered | statuses | peak RSS growth | wall |",
          "| --- | --- | --- | --- | --- | --- |",
          ...phases.map(
            (p) =>
              `| ${p.name} | ${p.sent} | ${p.answered} | ${Object.entries(p.statuses)
                .map(([s, n]) => `${n}× ${s}`)
                .join(", ")} | ${fmt(p.growthMiB)} MiB | ${fmt(p.wallMs)} ms |`,
          ),
        ],
      };
    } finally {
      await server.stop();
      await redisServer.stop();
    }
  },
};
