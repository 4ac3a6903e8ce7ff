import { pbkdf2 } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createLogger } from "@forgehand/core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { stopGuardian } from "./guardian";
import type { PidEntry } from "./pid-registry";
import { isInside, readCwd, scanProcesses } from "./proc";
import { RunAbortedError } from "./run-aborted-error";
import { supervise } from "./supervise";
import { fixture, isAlive, killAll, makeWorktree, readPids } from "./test-support";
import type { AgentEvent, RunOutcome, RunProgress, SuperviseOptions } from "./types";

let wt = makeWorktree();
afterEach(() => {
  killAll(readPids(wt.pidFile));
  wt.cleanup();
  wt = makeWorktree();
});
afterAll(async () => {
  // Tests with a registryDir start this worker's guardian; leave no process behind.
  await stopGuardian();
  wt.cleanup();
});

function options(name: string, extra: Partial<SuperviseOptions> = {}): SuperviseOptions {
  return {
    command: [process.execPath, fixture(name)],
    cwd: wt.dir,
    env: { PID_FILE: wt.pidFile, FOO: "bar" },
    prompt: { via: "stdin", text: "fix the bug" },
    parser: "claude-stream-json",
    limits: {},
    killGraceMs: 300,
    runId: "run-1",
    ...extra,
  };
}

/** Runs `supervise` and records which reported pids were alive at the very moment it resolved. */
async function run(opts: SuperviseOptions): Promise<{ outcome: RunOutcome; pids: number[]; aliveAtResolve: number[] }> {
  return supervise(opts).then((outcome) => {
    const pids = readPids(wt.pidFile);
    return { outcome, pids, aliveAtResolve: pids.filter(isAlive) };
  });
}

describe("supervise: normal exits", () => {
  it("succeeds on exit 0 with a success result; prompt on stdin; env is exactly options.env", async () => {
    const events: AgentEvent[] = [];
    const progress: RunProgress[] = [];
    const { outcome, pids, aliveAtResolve } = await run(
      options("clean-exit.mjs", { onEvent: (e) => events.push(e), onProgress: (p) => progress.push(p) }),
    );

    expect(outcome.reason).toBe("succeeded");
    expect(outcome.exitCode).toBe(0);
    expect(outcome.resultText).toBe("done: fix the bug");
    expect(outcome.sessionId).toBe("sess-clean");
    expect(outcome.turns).toBe(1);
    expect(outcome.costUsd).toBe(0.0123);
    expect(outcome.stderrTail).toContain("env keys: FOO,PID_FILE\n");
    expect(outcome.stderrTail).toContain(`cwd: ${wt.dir}`);
    expect(events.map((e) => e.type)).toEqual(["session", "assistant", "usage", "tool_result", "result"]);
    expect(progress.map(({ turns, costUsd, sessionId }) => ({ turns, costUsd, sessionId }))).toEqual([
      { turns: 0, costUsd: 0, sessionId: "sess-clean" },
      { turns: 1, costUsd: 0, sessionId: "sess-clean" },
      { turns: 1, costUsd: (100 * 3 + 20 * 15) / 1e6, sessionId: "sess-clean" },
      { turns: 1, costUsd: 0.0123, sessionId: "sess-clean" },
    ]);
    expect(pids).toHaveLength(1);
    expect(aliveAtResolve).toEqual([]);
  });

  it("passes the prompt as a temp file appended to argv when asked to", async () => {
    const { outcome } = await run(options("clean-exit.mjs", { prompt: { via: "file", text: "from a file\n" } }));
    expect(outcome.reason).toBe("succeeded");
    expect(outcome.resultText).toBe("done: from a file\n");
  });

  it("fails when the agent reports an error result, with the subtype in the detail", async () => {
    const opts = options("clean-exit.mjs");
    const { outcome } = await run({ ...opts, command: [...opts.command, "--error"] });
    expect(outcome.reason).toBe("failed");
    expect(outcome.exitCode).toBe(0);
    expect(outcome.detail).toContain("error_during_execution");
  });

  it("fails with a clear detail when the command cannot be started", async () => {
    const { outcome } = await run(options("x", { command: [join(wt.dir, "no-such-agent")] }));
    expect(outcome.reason).toBe("failed");
    expect(outcome.detail).toContain("[supervisor] could not start");
    expect(outcome.detail).toContain("ENOENT");
  });

  it("sweeps a background child left behind by an agent that exits 0, even while it holds stdout", async () => {
    const { outcome, pids, aliveAtResolve } = await run(options("leaves-child.mjs", { parser: "lines" }));
    expect(outcome.reason).toBe("succeeded");
    expect(pids).toHaveLength(2);
    expect(aliveAtResolve).toEqual([]);
    expect(outcome.kill?.killed).toContain(pids[1]);
    expect(outcome.detail).toContain("killed 1 leftover process");
    expect(outcome.durationMs).toBeLessThan(5000);
  });

  it("reports a clean exit (onCleanExit) before the sweep: the leftover child is still alive then", async () => {
    const seen: Array<{ text: string | undefined; leftoverAlive: boolean }> = [];
    const onCleanExit = async (text: string | undefined) => {
      const pids = readPids(wt.pidFile);
      seen.push({ text, leftoverAlive: pids.length === 2 && isAlive(pids[1]!) });
    };
    const { outcome, aliveAtResolve } = await run(options("leaves-child.mjs", { parser: "lines", onCleanExit }));
    expect(outcome.reason).toBe("succeeded");
    expect(seen).toEqual([{ text: undefined, leftoverAlive: true }]);
    expect(aliveAtResolve).toEqual([]);
  });

  it("does not report a failed exit as clean", async () => {
    let called = 0;
    const { outcome } = await run(
      options("x", { command: [join(wt.dir, "no-such-agent")], onCleanExit: async () => void called++ }),
    );
    expect(outcome.reason).toBe("failed");
    expect(called).toBe(0);
  });

  it("sweeps a double-forked setsid escapee by its cwd after a clean exit", async () => {
    const opts = options("escapee.mjs", { parser: "lines" });
    const { outcome, pids, aliveAtResolve } = await run({ ...opts, command: [...opts.command, "exit"] });
    expect(outcome.reason).toBe("succeeded");
    expect(pids).toHaveLength(2);
    expect(aliveAtResolve).toEqual([]);
    expect(outcome.kill?.killed).toEqual([pids[1]]);
  });

  it("rejects bad options before spawning anything", async () => {
    await expect(supervise(options("x", { command: [] }))).rejects.toThrow("[supervisor] Expected `command`");
    await expect(supervise(options("x", { killGraceMs: Number.NaN }))).rejects.toThrow("`killGraceMs` >= 0, got `NaN`");
    await expect(supervise(options("x", { registryDir: wt.dir, runId: "../evil" }))).rejects.toThrow("`../evil`");
    expect(readPids(wt.pidFile)).toEqual([]);
  });
});

describe("supervise: limits and cancel end in a verified kill", () => {
  it("timed_out: kills agent, child and grandchild (all ignore SIGTERM/SIGHUP) before resolving", async () => {
    const { outcome, pids, aliveAtResolve } = await run(
      options("tree.mjs", { parser: "lines", limits: { timeoutMs: 2000, stallMs: 5000 } }),
    );
    expect(outcome.reason).toBe("timed_out");
    expect(outcome.detail).toContain("2000 ms");
    expect(pids).toHaveLength(3);
    expect(aliveAtResolve).toEqual([]);
    expect(outcome.kill?.escalated).toBe(true);
    expect(outcome.kill?.survivors).toEqual([]);
    expect(outcome.signal).toBe("SIGKILL");
    expect(outcome.durationMs).toBeGreaterThanOrEqual(2000 + 300);
  });

  it("stalled: an agent that goes silent is killed", async () => {
    const lines: string[] = [];
    const { outcome, pids, aliveAtResolve } = await run(
      options("silent.mjs", { parser: "lines", limits: { stallMs: 1500 }, onLog: (_s, l) => lines.push(l) }),
    );
    expect(outcome.reason).toBe("stalled");
    expect(lines).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5"]);
    expect(pids).toHaveLength(1);
    expect(aliveAtResolve).toEqual([]);
  });

  it("an announced API retry is activity: silent during the CLI's own retry wait is not a stall", async () => {
    const events: AgentEvent[] = [];
    const { outcome, aliveAtResolve } = await run(
      options("api-retry.mjs", { limits: { stallMs: 800 }, onEvent: (e) => events.push(e) }),
    );
    expect(outcome).toMatchObject({ reason: "succeeded", costUsd: 0.01 });
    expect(events).toContainEqual(expect.objectContaining({ type: "api_retry", delayMs: 1500, status: 529 }));
    expect(aliveAtResolve).toEqual([]);
  });

  it("budgetSignal: a spend cap crossed elsewhere ends the run as budget_limit with the signal's reason", async () => {
    const budget = new AbortController();
    setTimeout(
      () => budget.abort("budget limit: github:acme/app spent $20.10 today (UTC) of budgets.perRepoDailyUsd $20"),
      300,
    );
    const { outcome, aliveAtResolve } = await run(options("tool-turns.mjs", { budgetSignal: budget.signal }));
    expect(outcome.reason).toBe("budget_limit");
    expect(outcome.detail).toContain("budgets.perRepoDailyUsd $20");
    expect(aliveAtResolve).toEqual([]);
  });

  it("turn_limit: counts one tool turn per tool call (parallel calls each count), not per content-block line", async () => {
    let assistantLines = 0;
    const { outcome, aliveAtResolve } = await run(
      options("tool-turns.mjs", {
        limits: { maxTurns: 3 },
        onEvent: (e) => {
          if (e.type === "assistant") assistantLines++;
        },
      }),
    );
    expect(outcome.reason).toBe("turn_limit");
    // Two calls per message: the 4th call is in the 2nd message (per-message counting would stop at the 4th).
    expect(outcome.detail).toBe("turn limit: tool call 4 exceeds maxTurns 3");
    expect(assistantLines).toBeGreaterThanOrEqual(8);
    expect(outcome.sessionId).toBe("sess-tool-turns");
    expect(aliveAtResolve).toEqual([]);
  });

  it("budget_limit: estimates cost from usage × prices, counting each message id once", async () => {
    const { outcome, aliveAtResolve } = await run(options("over-budget.mjs", { limits: { maxBudgetUsd: 0.05 } }));
    expect(outcome.reason).toBe("budget_limit");
    // $0.018 per message: the 3rd message crosses $0.05. Counting every line would cross at the 2nd ($0.072).
    expect(outcome.detail).toBe("budget limit: cost $0.0540 exceeds maxBudgetUsd $0.05");
    expect(outcome.turns).toBe(0);
    expect(aliveAtResolve).toEqual([]);
  });

  it("counts output the agent writes while the pid registry write is still pending", async () => {
    // Busy libuv's thread pool (4 threads) so the registry's mkdir/writeFile wait behind it, as under load.
    const busy = Array.from({ length: 4 }, () => promisify(pbkdf2)("x", "y", 400_000, 64, "sha512"));
    const line = JSON.stringify({
      type: "assistant",
      message: {
        id: "m1",
        model: "claude-opus-4-5",
        content: [],
        usage: { input_tokens: 1_000_000, output_tokens: 1 },
      },
    });
    const { outcome, aliveAtResolve } = await run({
      ...options("over-budget.mjs"),
      command: [process.execPath, "-e", `console.log(${JSON.stringify(line)}); setInterval(() => {}, 1000)`],
      registryDir: join(wt.dir, ".registry"),
      limits: { maxBudgetUsd: 1, timeoutMs: 15_000 },
    });
    await Promise.all(busy);
    expect(outcome.reason).toBe("budget_limit");
    expect(outcome.costUsd).toBeGreaterThan(1);
    expect(aliveAtResolve).toEqual([]);
  });

  it("stopped: an external abort kills an agent that ignores SIGTERM, observed only after it died", async () => {
    const controller = new AbortController();
    const { outcome, pids, aliveAtResolve } = await run(
      options("ignore-term.mjs", {
        parser: "lines",
        signal: controller.signal,
        onLog: (_s, line) => {
          if (line === "ready") controller.abort(new Error("/stop by alice"));
        },
      }),
    );
    expect(outcome.reason).toBe("stopped");
    expect(outcome.detail).toBe("stopped: /stop by alice");
    expect(outcome.kill?.escalated).toBe(true);
    expect(pids).toHaveLength(1);
    expect(aliveAtResolve).toEqual([]);
  });

  it.each([
    ["a RunAbortedError", new RunAbortedError("shutdown", "runner shutting down"), "shutdown"],
    // What the runner used to abort with: the log line read `stopped: [object Object]`.
    ["a plain cause object", { kind: "shutdown" }, undefined],
  ])("stopped: the stopping-agent log line names the abort reason given as %s", async (_what, reason, cause) => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: "debug", format: "json", write: (l) => lines.push(JSON.parse(l)) });
    const controller = new AbortController();
    const { outcome } = await run(
      options("ignore-term.mjs", {
        parser: "lines",
        signal: controller.signal,
        logger,
        onLog: (_s, line) => {
          if (line === "ready") controller.abort(reason);
        },
      }),
    );
    const stopping = lines.find((l) => l.msg === "stopping agent");
    expect(outcome.reason).toBe("stopped");
    expect(outcome.detail).not.toContain("[object Object]");
    expect(stopping?.detail).toBe(outcome.detail);
    expect(stopping?.cause).toBe(cause);
    if (reason instanceof RunAbortedError) expect(outcome.detail).toBe("stopped: runner shutting down");
    else expect(outcome.detail).toBe('stopped: {"kind":"shutdown"}');
  });

  it("stopped: an already-aborted signal spawns nothing", async () => {
    const { outcome, pids } = await run(options("ignore-term.mjs", { signal: AbortSignal.abort("shutdown") }));
    expect(outcome.reason).toBe("stopped");
    expect(pids).toEqual([]);
  });

  it("fails without spawning anything when the pid registry cannot be written", async () => {
    // A file where the registry's parent directory should be: mkdir fails (even as root, unlike a chmod).
    writeFileSync(join(wt.dir, "not-a-dir"), "");
    const registryDir = join(wt.dir, "not-a-dir", "pids");
    const seen = new Set<number>();
    const watch = setInterval(() => {
      for (const p of scanProcesses()) {
        const cwd = readCwd(p.pid);
        if (p.pid !== process.pid && cwd !== undefined && isInside(cwd, wt.dir)) seen.add(p.pid);
      }
    }, 1);
    const outcome = await supervise(options("ignore-term.mjs", { parser: "lines", registryDir })).finally(() =>
      clearInterval(watch),
    );
    expect(outcome.reason).toBe("failed");
    expect(outcome.detail).toMatch(/^\[supervisor\] could not write pid registry in `.*not-a-dir\/pids`: .*ENOTDIR/);
    expect(outcome.kill).toBeUndefined();
    expect(seen).toEqual(new Set());
    expect(readPids(wt.pidFile)).toEqual([]);
    expect(existsSync(join(wt.dir, "not-a-dir", "pids"))).toBe(false);
  });

  it("lists the run as pending (cwd, no pid) before the spawn, then with the agent's pid", async () => {
    const registryDir = join(wt.dir, "pids");
    const path = join(registryDir, "run-1.json");
    const controller = new AbortController();
    // Polled from the moment supervise is called: the first entry seen must be the pending one.
    const seen: PidEntry[] = [];
    const watch = setInterval(() => {
      try {
        const entry = JSON.parse(readFileSync(path, "utf8")) as PidEntry;
        if (seen.length === 0 || seen.at(-1)?.pid !== entry.pid) seen.push(entry);
      } catch {}
    }, 1);
    const run = supervise(
      options("ignore-term.mjs", {
        parser: "lines",
        registryDir,
        signal: controller.signal,
        onLog: () => controller.abort(),
      }),
    );
    const outcome = await run.finally(() => clearInterval(watch));
    expect(outcome.reason).toBe("stopped");
    expect(seen[0]).toMatchObject({ runId: "run-1", cwd: wt.dir, supervisorPid: process.pid });
    expect(seen[0]).not.toHaveProperty("pid");
    expect(seen[0]).not.toHaveProperty("pgid");
    expect(seen.at(-1)).toMatchObject({ pid: readPids(wt.pidFile)[0], cwd: wt.dir });
    expect(existsSync(path)).toBe(false);
  });

  it("kills a running setsid escapee found only by its cwd, and keeps the registry until then", async () => {
    const registryDir = join(wt.dir, "pids");
    let listedWhileRunning: PidEntry | undefined;
    const controller = new AbortController();
    const { outcome, pids, aliveAtResolve } = await run(
      options("escapee.mjs", {
        parser: "lines",
        registryDir,
        runId: "run-escapee",
        signal: controller.signal,
        onLog: () => {
          listedWhileRunning = JSON.parse(readFileSync(join(registryDir, "run-escapee.json"), "utf8"));
          controller.abort();
        },
      }),
    );
    expect(outcome.reason).toBe("stopped");
    expect(outcome.kill?.killed.sort()).toEqual([...pids].sort());
    expect(pids).toHaveLength(2);
    expect(aliveAtResolve).toEqual([]);
    expect(listedWhileRunning).toMatchObject({ runId: "run-escapee", pid: pids[0], pgid: pids[0], cwd: wt.dir });
    expect(listedWhileRunning?.startTime).toBeGreaterThan(0);
    expect(existsSync(join(registryDir, "run-escapee.json"))).toBe(false);
  });
});

describe("supervise: malformed output", () => {
  it("skips lines that are not stream-json and keeps supervising", async () => {
    const script = [
      "console.log('not json');",
      "console.log('{\"type\":');",
      "console.log('[1,2]');",
      `console.log(JSON.stringify({type:'result',subtype:'success',is_error:false,result:'ok',total_cost_usd:0}));`,
    ].join("");
    const lines: string[] = [];
    const { outcome } = await run(
      options("x", { command: [process.execPath, "-e", script], onLog: (_s, l) => lines.push(l) }),
    );
    expect(outcome.reason).toBe("succeeded");
    expect(outcome.resultText).toBe("ok");
    expect(lines).toHaveLength(4);
  });
});

describe("supervise: replayed real Claude Code output", () => {
  const recording = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/claude/${name}`, import.meta.url));
  const replay = (name: string, exitCode = 0, extra: Partial<SuperviseOptions> = {}) =>
    run(
      options("x", {
        command: [process.execPath, fixture("replay.mjs"), recording(name), "10", String(exitCode)],
        ...extra,
      }),
    );

  it("write-file.jsonl succeeds with the agent's own cost and one tool turn", async () => {
    const { outcome } = await replay("write-file.jsonl");
    expect(outcome).toMatchObject({
      reason: "succeeded",
      turns: 1,
      costUsd: 0.00028000000000000003,
      resultText: "Wrote hello.txt.",
    });
  });

  it("max-turns.jsonl (exit 1, error_max_turns) fails", async () => {
    const { outcome } = await replay("max-turns.jsonl", 1);
    expect(outcome).toMatchObject({ reason: "failed", exitCode: 1, turns: 3 });
  });

  it("budget.jsonl is stopped by the running estimate before its result line", async () => {
    const { outcome, aliveAtResolve } = await replay("budget.jsonl", 0, { limits: { maxBudgetUsd: 1.5 } });
    expect(outcome.reason).toBe("budget_limit");
    // Crossed by the estimate after the 2nd message ($1.6000), not by the final report ($2.4006).
    expect(outcome.detail).toBe("budget limit: cost $1.6000 exceeds maxBudgetUsd $1.5");
    expect(aliveAtResolve).toEqual([]);
  });
});
