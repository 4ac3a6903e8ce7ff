// Child entry for figure 4: one process supervising N agents at once with supervise(), as one runner
// does. Starts N fixtures, waits until every one has
// printed its first line, lets them settle, measures this process's CPU (process.cpuUsage delta) and
// RSS over a fixed window, then aborts them all (verified kill) and prints the figures as one JSON line.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type RunOutcome, supervise } from "@forgehand/supervisor";
import { onParentGone, report } from "../harness/child";
import { FIXTURES } from "./bench-config";

// argv: "<count>:<kind>,…" windowMs settleMs dir — one JSON line per configuration, in order.
const [configsArg = "1:idle", windowArg = "1000", settleArg = "500", dir = "/tmp"] = process.argv.slice(2);
const windowMs = Number(windowArg);
const settleMs = Number(settleArg);

/** Every run's abort controller and outcome, so a parent that goes away still gets its agents killed. */
const live: { ac: AbortController; outcome: Promise<unknown> }[] = [];
async function killLive(why: string) {
  for (const run of live) run.ac.abort(new Error(why));
  await Promise.allSettled(live.map((run) => run.outcome));
}
onParentGone(() => killLive("bench parent gone"));

async function main() {
  for (const config of configsArg.split(",")) {
    const [count, kind] = config.split(":");
    await measure(Number(count), kind ?? "idle");
  }
}

/** Every descendant of this process, with its command line, RSS and PSS (KiB, from /proc/<pid>/smaps_rollup). */
function descendants(): { pid: number; cmd: string; rssKiB: number; pssKiB: number }[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!mine.has(pid) && mine.has(ppid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  mine.delete(process.pid);
  const out = [];
  for (const pid of mine) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(rollup)?.[1] ?? 0);
      out.push({ pid, cmd, rssKiB: kib("Rss"), pssKiB: kib("Pss") });
    } catch {}
  }
  return out;
}

async function measure(count: number, kindArg: string) {
  // `sandboxed-idle`: the idle fixture in the default sandbox (bwrap, run cgroup, egress proxy, agent uid).
  const sandboxed = kindArg.startsWith("sandboxed-");
  const kind = kindArg.replace(/^sandboxed-/, "");
  const controllers: AbortController[] = [];
  const outcomes: Promise<RunOutcome>[] = [];
  let started = 0;
  let lines = 0;
  const t0 = performance.now();
  const fixture = kind === "chatty" ? "chatty-agent.mjs" : kind === "idle" ? "idle-agent.mjs" : undefined;
  if (!fixture) {
    if (count !== 0) throw new Error(`[bench] unknown fixture kind \`${kind}\` (idle, chatty)`);
  }
  for (let i = 0; i < count; i++) {
    // Each run has its own worktree: the verified kill also takes every process whose cwd is inside it.
    const cwd = join(dir, `${kindArg}-${count}`, `wt-${i}`);
    mkdirSync(cwd, { recursive: true });
    const ac = new AbortController();
    controllers.push(ac);
    let first = true;
    outcomes.push(
      supervise({
        command: [process.execPath, join(FIXTURES, fixture!)],
        cwd,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", CHATTY_INTERVAL_MS: "50" },
        prompt: { via: "stdin", text: "bench" },
        parser: "claude-stream-json",
        // Realistic limits, so the watchdog runs as in production (SPEC example: 30m / 5m / 40 turns / $2).
        limits: { timeoutMs: 30 * 60_000, stallMs: 5 * 60_000, maxTurns: 1_000_000, maxBudgetUsd: 1_000_000 },
        killGraceMs: 2_000,
        signal: ac.signal,
        runId: `scale-${kindArg}-${count}-${i}`,
        ...(sandboxed
          ? {
              sandbox: {
                allow: ["api.anthropic.com:443"],
                cgroup: { name: `bench-scale-${process.pid}-${count}-${i}` },
              },
            }
          : {}),
        onLog: (stream) => {
          // The sandbox's own `system` lines are no sign that the agent runs.
          if (stream !== "stdout") return;
          lines++;
          if (first) {
            first = false;
            started++;
          }
        },
      }),
    );
    live.push({ ac, outcome: outcomes[i]! });
  }
  const deadline = performance.now() + 150_000;
  while (started < count) {
    if (performance.now() > deadline) throw new Error(`[bench] only ${started} of ${count} agents started in 120 s`);
    await sleep(50);
  }
  const startupMs = performance.now() - t0;
  await sleep(settleMs);
  const lines0 = lines;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  await sleep(windowMs);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - w0;
  const elu = performance.eventLoopUtilization(elu0);
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  // The sandbox's own processes (outer bwrap, its pid-namespace reaper, the egress bridge's node) apart from the
  // agents (the fixture; with the fast init the agent is exec'd from the init, so there is no init process left).
  const procs = descendants();
  // By argv: bwrap's own argv holds the agent's command too, so match the program, not the whole line.
  const argv0 = (cmd: string) => cmd.split(" ")[0]?.split("/").pop() ?? "";
  const isAgent = (cmd: string) => argv0(cmd) === "node" && cmd.split(" ")[1]?.endsWith(fixture!);
  const isBridge = (cmd: string) => cmd.split(" ")[1]?.endsWith("forgehand-bridge.mjs");
  const sum = (list: typeof procs, k: "rssKiB" | "pssKiB") => list.reduce((a, p) => a + p[k], 0) / 1024;
  const sandboxProcs = procs.filter((p) => argv0(p.cmd) === "bwrap" || isBridge(p.cmd));
  const agentProcs = procs.filter((p) => isAgent(p.cmd));
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
  const linesPerS = ((lines - lines0) / wall) * 1000;
  live.length = 0;
  const k0 = performance.now();
  for (const ac of controllers) ac.abort(new Error("bench done"));
  const results = await Promise.all(outcomes);
  const killAllMs = performance.now() - k0;
  const survivors = results.reduce((s, r) => s + (r.kill?.survivors.length ?? 0), 0);
  report({
    count,
    kind: kindArg,
    startupMs,
    sandboxProcs: sandboxProcs.length,
    sandboxRssMiB: sum(sandboxProcs, "rssKiB"),
    sandboxPssMiB: sum(sandboxProcs, "pssKiB"),
    sandboxBridgePssMiB: sum(
      sandboxProcs.filter((p) => isBridge(p.cmd)),
      "pssKiB",
    ),
    agentProcs: agentProcs.length,
    agentRssMiB: sum(agentProcs, "rssKiB"),
    agentPssMiB: sum(agentProcs, "pssKiB"),
    windowMs: wall,
    cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    userPct: (cpu.user / 1000 / wall) * 100,
    elu: elu.utilization,
    rssMiB,
    heapMiB,
    linesPerS,
    killAllMs,
    survivors,
    stopped: results.filter((r) => r.reason === "stopped").length,
  });
}

try {
  await main();
  process.exit(0);
} catch (error) {
  await killLive("bench failed");
  report({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(0);
}
