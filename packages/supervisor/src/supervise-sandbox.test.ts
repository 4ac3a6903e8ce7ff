// supervise() with the sandbox on (the real bwrap): limits, stop and the sweep still end in a verified kill,
// an escapee with cwd /tmp is dead when the outcome resolves, and a sandbox that cannot be made runs nothing.
import { chmodSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveAgentIdentity } from "./sandbox/agent-identity";
import { detectCgroupSupport } from "./sandbox/run-cgroup";
import { bwrapForTests, isRoot } from "./sandbox/test-support";
import { supervise } from "./supervise";
import { fixture, isAlive, killAll, makeWorktree } from "./test-support";
import type { RunOutcome, SuperviseOptions } from "./types";

const bwrap = bwrapForTests();
const FIXTURES = dirname(fixture("lib.mjs"));

/** Host pids of every process whose environment holds `needle` (the agent and its children; not bwrap/init). */
function hostPidsWithEnv(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "utf8").includes(needle) && isAlive(Number(name))) out.push(+name);
    } catch {}
  }
  return out;
}

/** A worktree as git makes one (0755: a root bwrap without CAP_DAC_OVERRIDE must be able to chdir into it). */
function makeWorktreeDir() {
  const wt = makeWorktree();
  chmodSync(wt.dir, 0o755);
  return wt;
}

describe.skipIf(!bwrap)("supervise inside the sandbox (real bwrap)", () => {
  let wt = makeWorktreeDir();
  let seen: number[] = [];
  afterEach(() => {
    killAll([...seen, ...hostPidsWithEnv(`PID_FILE=${wt.pidFile}`)]);
    wt.cleanup();
    wt = makeWorktreeDir();
    seen = [];
  });

  const options = (name: string, extra: Partial<SuperviseOptions> = {}): SuperviseOptions => ({
    command: [process.execPath, fixture(name)],
    cwd: wt.dir,
    env: { PID_FILE: wt.pidFile, PATH: "/usr/bin:/bin" },
    prompt: { via: "stdin", text: "fix the bug" },
    parser: "lines",
    limits: {},
    killGraceMs: 300,
    runId: "run-sbx",
    // The fixtures import their siblings: the directory, not only the argv file, must be visible.
    sandbox: { identity: resolveAgentIdentity(), readOnly: [FIXTURES] },
    ...extra,
  });

  /** Runs `supervise`; `seen` collects the sandboxed processes' host pids while they run (on every log line). */
  async function run(opts: SuperviseOptions): Promise<{ outcome: RunOutcome; aliveAtResolve: number[] }> {
    const needle = `PID_FILE=${wt.pidFile}`;
    const onLog = opts.onLog;
    const outcome = await supervise({
      ...opts,
      onLog(stream, line) {
        if (stream === "stdout") for (const p of hostPidsWithEnv(needle)) if (!seen.includes(p)) seen.push(p);
        onLog?.(stream, line);
      },
    });
    return { outcome, aliveAtResolve: [...seen, ...hostPidsWithEnv(needle)].filter(isAlive) };
  }

  it("runs the agent as the agent uid, in the worktree, with exactly its env plus HOME and the proxy", async () => {
    const { outcome } = await run(options("clean-exit.mjs", { parser: "claude-stream-json" }));
    expect(outcome.reason).toBe("succeeded");
    expect(outcome.resultText).toBe("done: fix the bug");
    expect(outcome.stderrTail).toContain(`cwd: ${wt.dir}`);
    expect(outcome.stderrTail).toMatch(/env keys: .*HOME.*HTTPS_PROXY.*PID_FILE/);
    expect(outcome.sandbox?.uid).toBe(isRoot ? resolveAgentIdentity().uid : process.getuid?.());
    // Handed back after the run: the runner's later git sees its own files.
    expect(statSync(wt.pidFile).uid).toBe(process.getuid?.());
  });

  it("prompt via file: the file is inside the sandbox (run dir), not in the host's /tmp", async () => {
    const { outcome } = await run(
      options("clean-exit.mjs", { parser: "claude-stream-json", prompt: { via: "file", text: "from a file\n" } }),
    );
    expect(outcome.reason).toBe("succeeded");
    expect(outcome.resultText).toBe("done: from a file\n");
  });

  it("timed_out: the agent tree (ignoring SIGTERM) is gone when the outcome resolves", async () => {
    const { outcome, aliveAtResolve } = await run(options("tree.mjs", { limits: { timeoutMs: 1500 } }));
    expect(outcome.reason).toBe("timed_out");
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(aliveAtResolve).toEqual([]);
    expect(outcome.kill?.survivors).toEqual([]);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(1500 + 300);
  });

  it("stalled and turn_limit still end the run", async () => {
    const stalled = await run(options("silent.mjs", { limits: { stallMs: 800 } }));
    expect(stalled.outcome.reason).toBe("stalled");
    expect(stalled.aliveAtResolve).toEqual([]);
    const turns = await run(options("tool-turns.mjs", { parser: "claude-stream-json", limits: { maxTurns: 3 } }));
    expect(turns.outcome.reason).toBe("turn_limit");
    expect(turns.aliveAtResolve).toEqual([]);
  }, 60_000);

  it("stopped: an abort stops an agent that ignores SIGTERM (grace, then the hard kill)", async () => {
    const controller = new AbortController();
    const { outcome, aliveAtResolve } = await run(
      options("ignore-term.mjs", {
        signal: controller.signal,
        onLog: (_s, line) => line === "ready" && controller.abort(new Error("/stop by alice")),
      }),
    );
    expect(outcome.reason).toBe("stopped");
    expect(outcome.detail).toBe("stopped: /stop by alice");
    expect(seen.length).toBe(1);
    expect(aliveAtResolve).toEqual([]);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(300);
  });

  it("a graceful stop reaches the agent: SIGTERM through the init, the agent exits in the grace", async () => {
    const controller = new AbortController();
    const { outcome, aliveAtResolve } = await run(
      options("sleeper.mjs", {
        command: ["/bin/sh", "-c", 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done'],
        killGraceMs: 5000,
        signal: controller.signal,
        onLog: (_s, line) => line === "ready" && controller.abort(new Error("stop")),
      }),
    );
    expect(outcome.reason).toBe("stopped");
    expect(outcome.durationMs).toBeLessThan(4000);
    expect(aliveAtResolve).toEqual([]);
  });

  it.each([
    ["sandboxed", true],
    // The same agent without the sandbox: the escapee is in no group, tree or worktree cwd, so the scan misses it.
    ["unsandboxed (control: the scan alone misses it)", false],
  ])("a `setsid -f` escapee with cwd /tmp, %s", async (_what, sandboxed) => {
    const tag = `7${Math.floor(Math.random() * 1e6)}.5`;
    const script = `cd /tmp && setsid -f sleep ${tag} </dev/null >/dev/null 2>&1; sleep 0.2; echo ready; sleep 0.3`;
    let escapee: number[] = [];
    const { outcome } = await run(
      options("x", {
        command: ["/bin/sh", "-c", script],
        ...(sandboxed ? {} : { sandbox: undefined }),
        onLog: (_s, line) => {
          if (line !== "ready") return;
          escapee = hostPidsWithEnv(`PID_FILE=${wt.pidFile}`).filter((p) => cmd(p).startsWith(`sleep ${tag}`));
          seen.push(...escapee);
        },
      }),
    );
    expect(outcome.reason).toBe("succeeded");
    expect(escapee).toHaveLength(1);
    expect(escapee.filter(isAlive)).toEqual(sandboxed ? [] : escapee);
  });

  it("says so once in the run log when there is no cgroup (the kill still holds), or names limits not applied", async () => {
    const lines: string[] = [];
    const noCgroup = await run(
      options("tree.mjs", {
        limits: { timeoutMs: 1000 },
        sandbox: { identity: resolveAgentIdentity(), readOnly: [FIXTURES], cgroup: { root: "/dev/null" } },
        onLog: (s, l) => s === "system" && lines.push(l),
      }),
    );
    expect(noCgroup.outcome.reason).toBe("timed_out");
    expect(noCgroup.aliveAtResolve).toEqual([]);
    expect(noCgroup.outcome.sandbox?.cgroupUnavailable).toBeDefined();
    expect(lines.filter((l) => l.startsWith("sandbox: no per-run cgroup"))).toHaveLength(1);

    const limited: string[] = [];
    const withLimits = await run(
      options("clean-exit.mjs", {
        parser: "claude-stream-json",
        sandbox: {
          identity: resolveAgentIdentity(),
          readOnly: [FIXTURES],
          cgroup: { memoryMax: 256 * 1024 ** 2, pidsMax: 64 },
        },
        onLog: (s, l) => s === "system" && limited.push(l),
      }),
    );
    expect(withLimits.outcome.reason).toBe("succeeded");
    const cg = withLimits.outcome.sandbox;
    // Where the host delegates memory/pids they are applied; where not, the run log says which was not.
    const support = await detectCgroupSupport();
    if (support.available) {
      expect(cg?.cgroup).toBeDefined();
      const missing = ["memory", "pids"].filter((c) => !support.controllers.includes(c));
      expect(limited.filter((l) => / not applied: /.test(l))).toHaveLength(missing.length);
    }
  });

  it("fails closed: no bwrap → the run fails naming it, and nothing is spawned", async () => {
    const lines: string[] = [];
    const opts = options("clean-exit.mjs", {
      sandbox: { bwrap: "/nonexistent/bwrap" },
      onLog: (_s, l) => lines.push(l),
    });
    const { outcome } = await run(opts);
    expect(outcome.reason).toBe("failed");
    expect(outcome.detail).toContain("bubblewrap (bwrap) is not installed at /nonexistent/bwrap");
    expect(outcome.detail).toContain("nothing was run");
    expect(outcome.exitCode).toBeNull();
    expect(() => readFileSync(wt.pidFile)).toThrow();
  });
});

function cmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}
