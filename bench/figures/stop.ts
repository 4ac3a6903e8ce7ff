import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Figure, FigureContext } from "../harness/figure";
import { fmt, type Summary, summarize } from "../harness/stats";
import { FIXTURES } from "./bench-config";
import { startForgehand } from "./forgehand-under-test";

const TARGET_OVER_GRACE_MS = 250;
const DEFAULT_GRACE_MS = 5_000;

/** A process is gone when /proc has no entry or only a zombie (it has exited; only the wait is missing). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}

interface Series {
  variant: "exits on SIGTERM" | "ignores SIGTERM";
  graceMs: number;
  /** `/stop` sent → run record terminal (`stopped`, written only after the verified kill). */
  verified: number[];
  /** `/stop` sent → the last of the agent's pids gone, seen by the bench's own 2 ms poll. */
  pidsGone: number[];
}

async function measureGrace(ctx: FigureContext, graceMs: number, nTerm: number, nIgnore: number): Promise<Series[]> {
  const warm = 1;
  const fh = await startForgehand(ctx, {
    command: [process.execPath, join(FIXTURES, "sleeper.mjs")],
    agentEnv: { IGNORE_TERM_FROM_ISSUE: String(warm + nTerm + 1) },
    killGraceMs: graceMs,
    issues: warm + nTerm + nIgnore,
  });
  const term: Series = { variant: "exits on SIGTERM", graceMs, verified: [], pidsGone: [] };
  const ignore: Series = { variant: "ignores SIGTERM", graceMs, verified: [], pidsGone: [] };
  try {
    for (let issue = 1; issue <= warm + nTerm + nIgnore; issue++) {
      const runId = await fh.label(issue);
      const start = await fh.waitForStart(runId, issue === 1 ? 120_000 : 30_000);
      const pids = start.pids ?? [start.pid];
      const t0 = Date.now();
      await fh.comment(issue, "/stop");
      // Our own view of when the processes died, independent of forgehand's verification.
      const watch = (async () => {
        const deadline = t0 + graceMs + 30_000;
        while (pids.some((p) => !gone(p)) && Date.now() < deadline) await sleep(2);
        return Date.now();
      })();
      const { record, seenAt } = await fh.waitForTerminal(runId, graceMs + 30_000);
      const stillAlive = pids.filter((p) => !gone(p));
      const goneAt = await watch;
      if (record.state !== "stopped")
        throw new Error(`[bench] run ${runId} ended \`${record.state}\` after /stop: ${record.reason ?? ""}`);
      if (stillAlive.length)
        throw new Error(`[bench] run ${runId} is \`stopped\` but pids ${stillAlive.join(", ")} are still alive`);
      if (issue <= warm) continue;
      const series = issue <= warm + nTerm ? term : ignore;
      series.verified.push(seenAt - t0);
      series.pidsGone.push(goneAt - t0);
    }
  } finally {
    await fh.close();
  }
  return [term, ignore];
}

const row = (label: string, s: Summary) =>
  `| ${label} | ${s.n} | ${fmt(s.min)} | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.max)} |`;

/** Figure 3: `/stop` delivery → run `stopped` with every pid verified gone, for both kinds of agent and two graces. */
export const stopFigure: Figure = {
  id: "stop",
  title: "3. Stop latency",
  method:
    "forgehand as in figure 2 with a fixture agent that spawns a grandchild in its group and then runs until killed, either exiting on SIGTERM or ignoring SIGTERM/SIGHUP (both processes); once it has started, a signed issue_comment `/stop` delivery is sent (command job → runner's command handler → stop request → supervise's verified kill); latency = Date.now() when the run record is seen terminal (`stopped`, which forgehand writes only after every pid is verified gone; polled every 2 ms) minus Date.now() just before sending; the bench also checks both pids are really gone at that moment and records when its own 2 ms /proc poll saw them die",
  target: `p95 ≤ grace + ${TARGET_OVER_GRACE_MS} ms (grace 0 and the default ${DEFAULT_GRACE_MS / 1000} s)`,
  async run(ctx) {
    const smoke = ctx.size === "smoke";
    const series = [...(await measureGrace(ctx, 0, smoke ? 1 : 15, smoke ? 1 : 15))];
    if (!smoke) {
      ctx.note(`grace ${DEFAULT_GRACE_MS} ms`);
      series.push(...(await measureGrace(ctx, DEFAULT_GRACE_MS, 5, 3)));
    }
    const rows = series.map((s) => ({ s, v: summarize(s.verified), g: summarize(s.pidsGone) }));
    const missed = rows.filter((r) => r.v.p95 > r.s.graceMs + TARGET_OVER_GRACE_MS);
    const metrics: Record<string, number> = {};
    for (const r of rows) {
      const key = `${r.s.variant.startsWith("exits") ? "term" : "ignore"}Grace${r.s.graceMs}`;
      metrics[`${key}P50Ms`] = r.v.p50;
      metrics[`${key}P95Ms`] = r.v.p95;
    }
    return {
      method: `${stopFigure.method}; ${smoke ? "1 sample per kind (smoke)" : "grace 0: 15 samples per kind; grace 5 s: 5 (exits) and 3 (ignores)"}, after one warm-up run per grace`,
      status: missed.length ? "missed" : "met",
      headline: rows
        .map((r) => `grace ${r.s.graceMs / 1000} s, ${r.s.variant}: p50 ${fmt(r.v.p50)} / p95 ${fmt(r.v.p95)} ms`)
        .join("; "),
      reason: missed.length
        ? `over grace + ${TARGET_OVER_GRACE_MS} ms: ${missed.map((r) => `grace ${r.s.graceMs} ms ${r.s.variant}`).join(", ")}`
        : undefined,
      metrics,
      details: [
        "| grace, agent: measure (ms) | n | min | p50 | p95 | max |",
        "| --- | --- | --- | --- | --- | --- |",
        ...rows.flatMap((r) => [
          row(`grace ${r.s.graceMs} ms, ${r.s.variant}: /stop → run \`stopped\` (verified)`, r.v),
          row(`grace ${r.s.graceMs} ms, ${r.s.variant}: /stop → last pid gone (bench's poll)`, r.g),
        ]),
      ],
    };
  },
};
