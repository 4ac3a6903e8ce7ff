import { join } from "node:path";
import type { Figure } from "../harness/figure";
import { fmt, summarize } from "../harness/stats";
import { FIXTURES } from "./bench-config";
import { startForgehand } from "./forgehand-under-test";

const TARGET_P95_MS = 150;

/** Figure 2: label delivery sent → agent process started, through webhook, queue, runner, worktree, spawn. */
export const dispatchFigure: Figure = {
  id: "dispatch",
  title: "2. Dispatch latency",
  method:
    "forgehand as `forgehand start` runs it (webhook app on @hono/node-server + runner, one child process; in-memory forge client, private redis-server with AOF) and a bare git origin in a temp dir; after warm-up runs (the first clones the mirror), one signed issues.labeled delivery at a time, each for a new issue (so a new worktree from the warm mirror); latency = the agent fixture's performance.timeOrigin (when its process was created, before Node's own bootstrap) minus Date.now() just before the bench sent the delivery; the next delivery is sent once the run's record is terminal",
  target: `p95 ≤ ${TARGET_P95_MS} ms`,
  async run(ctx) {
    const smoke = ctx.size === "smoke";
    const runs = smoke ? 3 : 200;
    const warmups = smoke ? 1 : 5;
    const fh = await startForgehand(ctx, {
      command: [process.execPath, join(FIXTURES, "exit-at-once.mjs")],
      killGraceMs: 5_000,
      issues: runs + warmups,
    });
    const latencies: number[] = [];
    const recordLatencies: number[] = [];
    try {
      for (let i = 1; i <= warmups + runs; i++) {
        const t0 = Date.now();
        const runId = await fh.label(i);
        const start = await fh.waitForStart(runId, i === 1 ? 120_000 : 30_000);
        const { record } = await fh.waitForTerminal(runId);
        if (record.state !== "succeeded")
          throw new Error(`[bench] dispatch run ${runId} ended ${record.state}: ${record.reason ?? ""}`);
        if (i <= warmups) continue;
        latencies.push(start.startedAt - t0);
        if (record.startedAt) recordLatencies.push(record.startedAt - t0);
        if ((i - warmups) % 50 === 0) ctx.note(`${i - warmups}/${runs} runs`);
      }
    } finally {
      await fh.close();
    }
    const s = summarize(latencies);
    const r = recordLatencies.length ? summarize(recordLatencies) : undefined;
    const met = s.p95 <= TARGET_P95_MS;
    return {
      method: `${dispatchFigure.method}; ${runs} measured runs after ${warmups} warm-up`,
      status: met ? "met" : "missed",
      headline: `p50 ${fmt(s.p50)} ms, p95 ${fmt(s.p95)} ms over ${s.n} runs (max ${fmt(s.max)} ms)`,
      reason: met ? undefined : "see bench/NOTES.md (profile)",
      metrics: { p50Ms: s.p50, p95Ms: s.p95, maxMs: s.max, runs: s.n },
      details: [
        "| measure | n | min | p50 | p95 | p99 | max |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        `| delivery sent → agent process created (ms) | ${s.n} | ${fmt(s.min)} | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.p99)} | ${fmt(s.max)} |`,
        ...(r
          ? [
              `| delivery sent → run record \`startedAt\` (ms) | ${r.n} | ${fmt(r.min)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.max)} |`,
            ]
          : []),
      ],
    };
  },
};
