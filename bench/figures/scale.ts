import { join } from "node:path";
import { startChild } from "../harness/child";
import type { Figure } from "../harness/figure";
import { fmt, median } from "../harness/stats";

const WORKER = join(import.meta.dirname, "scale-worker.ts");
const TARGET_PCT = 5;

interface ScaleResult {
  count: number;
  kind: string;
  startupMs: number;
  windowMs: number;
  cpuPct: number;
  elu: number;
  rssMiB: number;
  heapMiB: number;
  linesPerS: number;
  killAllMs: number;
  survivors: number;
  stopped: number;
  sandboxProcs: number;
  sandboxRssMiB: number;
  sandboxPssMiB: number;
  sandboxBridgePssMiB: number;
  agentProcs: number;
  agentRssMiB: number;
  agentPssMiB: number;
}

/** Runs configurations ("count:kind") in one child, in order; survivors of a verified kill fail the figure. */
async function measure(configs: string[], windowMs: number, settleMs: number, dir: string): Promise<ScaleResult[]> {
  const c = await startChild<ScaleResult>(WORKER, [configs.join(","), String(windowMs), String(settleMs), dir], {
    readyTimeoutMs: 200_000,
  });
  try {
    const out = [c.ready];
    while (out.length < configs.length) out.push((await c.next(200_000)) as unknown as ScaleResult);
    for (const r of out) {
      if (typeof r.cpuPct !== "number") throw new Error(`[bench] scale worker sent ${JSON.stringify(r)}`);
      if (r.survivors > 0) throw new Error(`[bench] ${r.survivors} ${r.kind} agent processes survived the kill`);
    }
    return out;
  } finally {
    await c.stop();
  }
}

/** Figure 4: CPU and RSS of one process supervising 200 sandboxed idle agents, against unsandboxed ones. */
export const scaleFigure: Figure = {
  id: "scale",
  title: "4. Supervision scale",
  method:
    "a child process runs N concurrent supervise() calls (parser claude-stream-json, limits 30m/5m, own cwd each) over Node fixtures: idle (one init line, then an idle setInterval) and chatty (a ~1 KB stream-json assistant line every 50 ms), either unsandboxed or in the default sandbox (`sandboxed`: bwrap, run cgroup, agent uid, allowlist api.anthropic.com:443 — so one egress proxy (a unix-socket HTTP server in the supervising process) and one egress bridge (a node process in the sandbox) per run); once every agent has printed and a settle period passed, process.cpuUsage() and event-loop utilisation are read over a fixed window, with RSS at its end, and RSS/PSS (/proc/<pid>/smaps_rollup) of every descendant, split into the agents and the sandbox's own processes (outer bwrap, pid-namespace reaper, egress bridge); then all are aborted (verified kill: cgroup.kill with a cgroup, counted survivors must be 0). Baseline: the same process with 0 agents. Each configuration runs in its own child process",
  target: `200 sandboxed idle agents with the supervising process under ${TARGET_PCT} % of one core`,
  async run(ctx) {
    const smoke = ctx.size === "smoke";
    const top = smoke ? 2 : 200;
    const windowMs = smoke ? 500 : 3_000;
    const settleMs = smoke ? 100 : 1_000;
    // Bounded: 200 sandboxes start 400 node processes (agent + bridge) on a shared 2-core machine.
    const configs = smoke
      ? ["0:idle", `${top}:idle`, `${top}:sandboxed-idle`, `${top}:chatty`]
      : ["0:idle", "200:idle", "50:sandboxed-idle", "200:sandboxed-idle", "200:chatty"];
    const rows: ScaleResult[] = [];
    if (smoke) {
      // One child for everything keeps the smoke run short; the full run isolates each size so RSS is its own.
      rows.push(...(await measure(configs, windowMs, settleMs, ctx.tmpDir)));
    } else {
      for (const config of configs) {
        ctx.note(`${config.replace(":", " ")} agents…`);
        const [r] = await measure([config], windowMs, settleMs, ctx.tmpDir);
        ctx.note(`${config}: ${fmt(r!.cpuPct)} % CPU, RSS ${fmt(r!.rssMiB)} MiB, ${fmt(r!.linesPerS)} lines/s`);
        rows.push(r!);
      }
    }
    const base = rows[0]!;
    const idleTop = rows.find((r) => r.kind === "sandboxed-idle" && r.count === top)!;
    const plainTop = rows.find((r) => r.kind === "idle" && r.count === top)!;
    const chattyTop = rows.find((r) => r.kind === "chatty" && r.count === top)!;
    const met = idleTop.cpuPct < TARGET_PCT;
    return {
      method: `${scaleFigure.method}; window ${windowMs / 1000} s after ${settleMs / 1000} s settle`,
      status: met ? "met" : "missed",
      headline: `${top} sandboxed idle: supervising process ${fmt(idleTop.cpuPct)} % of a core, RSS ${fmt(idleTop.rssMiB)} MiB (unsandboxed ${fmt(plainTop.cpuPct)} %, ${fmt(plainTop.rssMiB)} MiB; 0 agents ${fmt(base.cpuPct)} %, ${fmt(base.rssMiB)} MiB); the sandboxes' own ${idleTop.sandboxProcs} processes: PSS ${fmt(idleTop.sandboxPssMiB)} MiB (${fmt(idleTop.sandboxBridgePssMiB)} of it the egress bridges), RSS sum ${fmt(idleTop.sandboxRssMiB)} MiB; all started in ${fmt(idleTop.startupMs / 1000)} s; ${top} chatty (unsandboxed): ${fmt(chattyTop.cpuPct)} % at ${fmt(chattyTop.linesPerS)} lines/s`,
      reason: met ? undefined : "see bench/NOTES.md (profile)",
      metrics: {
        idleTopCpuPct: idleTop.cpuPct,
        idleTopRssMiB: idleTop.rssMiB,
        idleTopSandboxPssMiB: idleTop.sandboxPssMiB,
        idleTopSandboxRssMiB: idleTop.sandboxRssMiB,
        unsandboxedIdleTopCpuPct: plainTop.cpuPct,
        unsandboxedIdleTopRssMiB: plainTop.rssMiB,
        chattyTopCpuPct: chattyTop.cpuPct,
        chattyTopRssMiB: chattyTop.rssMiB,
        chattyTopLinesPerS: chattyTop.linesPerS,
        baselineRssMiB: base.rssMiB,
        killAllMsTop: median([idleTop.killAllMs, chattyTop.killAllMs]),
      },
      details: [
        "| agents | kind | CPU % of one core | event loop busy % | RSS MiB | heap MiB | stdout lines/s | all started in ms | abort + verified kill of all, ms | sandbox processes: n, PSS / RSS sum MiB (bridges' PSS) | agent processes: n, PSS / RSS sum MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...rows.map(
          (r) =>
            `| ${r.count} | ${r.count === 0 ? "(baseline)" : r.kind} | ${fmt(r.cpuPct)} | ${fmt(r.elu * 100)} | ${fmt(r.rssMiB)} | ${fmt(r.heapMiB)} | ${fmt(r.linesPerS)} | ${fmt(r.startupMs)} | ${fmt(r.killAllMs)} | ${r.sandboxProcs}: ${fmt(r.sandboxPssMiB)} / ${fmt(r.sandboxRssMiB)} (${fmt(r.sandboxBridgePssMiB)}) | ${r.agentProcs}: ${fmt(r.agentPssMiB)} / ${fmt(r.agentRssMiB)} |`,
        ),
      ],
    };
  },
};
