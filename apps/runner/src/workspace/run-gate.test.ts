import { existsSync, readFileSync, realpathSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stopGuardian } from "@forgehand/supervisor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive } from "../../../../test/helpers/alive";
import { GATE_TAIL_BYTES, runGate } from "./run-gate";

let cwd: string;
beforeAll(async () => {
  cwd = realpathSync(await mkdtemp(join(tmpdir(), "fh-gate-")));
});
afterAll(async () => {
  // The registry test starts this worker's guardian; leave no process behind.
  await stopGuardian();
  await rm(cwd, { recursive: true, force: true });
});

const node = (code: string) => [process.execPath, "-e", code];

/** Alive and not a zombie (a killed orphan stays a zombie where init does not reap it). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function waitGone(pids: number[], limitMs = 10_000): Promise<number[]> {
  const until = Date.now() + limitMs;
  let left = pids.filter(alive);
  while (left.length && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(alive);
  }
  return left;
}

/** Prints its own pid and the pid of a child that ignores SIGTERM, then ignores SIGTERM itself and waits. */
const STUBBORN = `
const { spawn } = require("node:child_process");
const child = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
console.log("PIDS " + process.pid + " " + child.pid);
process.on("SIGTERM", () => {});
setInterval(() => {}, 1000);
`;

describe("runGate", () => {
  it("passes when the command exits 0, in the given cwd with the given env", async () => {
    const r = await runGate(node("console.log(process.cwd(), process.env.GATE_FLAG, process.env.SECRET_TOKEN)"), cwd, {
      env: { GATE_FLAG: "on" },
    });
    expect(r).toMatchObject({ ok: true, exitCode: 0, timedOut: false, aborted: false });
    expect(r.outputTail.trim()).toBe(`${cwd} on undefined`);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("does not pass forgehand's own environment on", async () => {
    process.env.SECRET_TOKEN = "should-not-leak";
    try {
      const r = await runGate(node("console.log(String(process.env.SECRET_TOKEN))"), cwd, {});
      expect(r.outputTail.trim()).toBe("undefined");
    } finally {
      delete process.env.SECRET_TOKEN;
    }
  });

  it("fails with the exit code and the combined output", async () => {
    const r = await runGate(node("console.log('out line'); console.error('err line'); process.exit(3)"), cwd, {});
    expect(r).toMatchObject({ ok: false, exitCode: 3, timedOut: false });
    expect(r.outputTail).toContain("out line");
    expect(r.outputTail).toContain("err line");
  });

  it("keeps only the last ~4 KB of output", async () => {
    const r = await runGate(
      node("for (let i = 0; i < 2000; i++) console.log('line ' + i); console.log('THE END')"),
      cwd,
      {},
    );
    expect(r.ok).toBe(true);
    expect(Buffer.byteLength(r.outputTail)).toBeLessThanOrEqual(GATE_TAIL_BYTES);
    expect(r.outputTail.trimEnd().endsWith("THE END")).toBe(true);
    expect(r.outputTail).not.toContain("line 1000\n");
  });

  it("reports a missing binary as a failed gate", async () => {
    const r = await runGate(["definitely-not-a-gate-binary-xyz"], cwd, {});
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBeNull();
    expect(r.outputTail).toMatch(/ENOENT|not found|definitely-not-a-gate-binary-xyz/);
    await expect(runGate([], cwd, {})).rejects.toThrow(/\[workspace\] Expected a gate command/);
  });

  it("kills the whole process group on timeout, even processes that ignore SIGTERM", async () => {
    const r = await runGate(node(STUBBORN), cwd, { timeoutMs: 1_500, killGraceMs: 300 });
    expect(r).toMatchObject({ ok: false, exitCode: null, timedOut: true });
    expect(r.durationMs).toBeGreaterThanOrEqual(1_400);
    const pids = /PIDS (\d+) (\d+)/.exec(r.outputTail)?.slice(1).map(Number) ?? [];
    expect(pids).toHaveLength(2);
    expect(await waitGone(pids)).toEqual([]);
    expect(r.outputTail).toContain("timed out after 1500 ms");
  });

  it("kills the process group when aborted", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 800);
    const r = await runGate(node(STUBBORN), cwd, { signal: controller.signal, killGraceMs: 300 });
    expect(r).toMatchObject({ ok: false, aborted: true, timedOut: false });
    const pids = /PIDS (\d+) (\d+)/.exec(r.outputTail)?.slice(1).map(Number) ?? [];
    expect(pids).toHaveLength(2);
    expect(await waitGone(pids)).toEqual([]);
  });

  it("cleans up background processes a passing gate leaves behind", async () => {
    const code = `
const { spawn } = require("node:child_process");
const c = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
console.log("BG " + c.pid);
c.unref();`;
    const r = await runGate(node(code), cwd, { timeoutMs: 20_000 });
    expect(r.ok).toBe(true);
    const bg = Number(/BG (\d+)/.exec(r.outputTail)?.[1]);
    expect(bg).toBeGreaterThan(0);
    expect(await waitGone([bg])).toEqual([]);
  });

  it("on timeout kills a setsid child that left the gate's group, found by its cwd in the worktree", async () => {
    // The child is its own session leader (setsid): neither in the gate's group nor, once the gate is killed,
    // its descendant. Only the worktree scan finds it.
    const code = `
const { spawn } = require("node:child_process");
const c = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore", detached: true });
console.log("SETSID " + c.pid);
setInterval(() => {}, 1000);`;
    const r = await runGate(node(code), cwd, { timeoutMs: 1_000, killGraceMs: 200 });
    expect(r).toMatchObject({ ok: false, timedOut: true });
    const child = Number(/SETSID (\d+)/.exec(r.outputTail)?.[1]);
    expect(child).toBeGreaterThan(0);
    // Dead when runGate resolved, not eventually.
    expect(running(child)).toBe(false);
  });

  it("cleans up a setsid daemon a passing gate leaves behind in the worktree before it resolves", async () => {
    const code = `
const { spawn } = require("node:child_process");
const c = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore", detached: true });
console.log("DAEMON " + c.pid);
c.unref();`;
    const r = await runGate(node(code), cwd, { timeoutMs: 20_000, killGraceMs: 200 });
    expect(r.ok).toBe(true);
    const daemon = Number(/DAEMON (\d+)/.exec(r.outputTail)?.[1]);
    expect(daemon).toBeGreaterThan(0);
    expect(running(daemon)).toBe(false);
  });

  it("is listed in the pid registry as <runId>.gate while it runs, and removed after", async () => {
    const registryDir = join(cwd, "registry");
    const entryPath = join(registryDir, "run-42.gate.json");
    let seen: { pid?: number; cwd?: string } | undefined;
    const pidFile = join(cwd, "gate.pid");
    const code = "require('fs').writeFileSync('gate.pid', String(process.pid)); setTimeout(() => {}, 30000)";
    const controller = new AbortController();
    const watch = setInterval(() => {
      if (!existsSync(entryPath) || !existsSync(pidFile)) return;
      const entry = JSON.parse(readFileSync(entryPath, "utf8"));
      if (entry.pid === undefined) return;
      seen = entry;
      controller.abort();
    }, 20);
    try {
      const r = await runGate(node(code), cwd, {
        signal: controller.signal,
        killGraceMs: 200,
        registry: { dir: registryDir, runId: "run-42" },
      });
      expect(r.aborted).toBe(true);
      expect(seen?.pid).toBe(Number(readFileSync(pidFile, "utf8")));
      expect(running(seen?.pid as number)).toBe(false);
      expect(seen?.cwd).toBe(cwd);
      expect(existsSync(entryPath)).toBe(false);
    } finally {
      clearInterval(watch);
    }
  });
});

describe.skipIf(process.getuid?.() !== 0)("runGate in the sandbox (real bwrap, root runner)", () => {
  it("runs as the agent uid with the worktree writable and the runner's files invisible; a failure is a result", async () => {
    const { chmodSync } = await import("node:fs");
    const { resolveAgentIdentity } = await import("@forgehand/supervisor");
    const wt = realpathSync(await mkdtemp(join(tmpdir(), "fh-gate-sbx-")));
    chmodSync(wt, 0o755);
    const lines: string[] = [];
    const script = [
      "const fs = require('fs');",
      "fs.writeFileSync('built.txt', 'ok');",
      "let home = 'hidden'; try { fs.readdirSync('/root'); home = 'visible'; } catch {}",
      "console.log(JSON.stringify({ uid: process.getuid(), home, HOME: process.env.HOME, runnerSecret: process.env.GATE_SECRET }));",
    ].join("\n");
    process.env.GATE_SECRET = "must-not-leak";
    try {
      const result = await runGate(node(script), wt, {
        sandbox: { identity: resolveAgentIdentity() },
        onSystemLog: (l) => lines.push(l),
      });
      expect(result.ok).toBe(true);
      const seen = JSON.parse(result.outputTail.trim().split("\n").pop()!);
      expect(seen).toMatchObject({ home: "hidden", HOME: "/home/agent" });
      expect(seen.uid).not.toBe(0);
      expect(seen.runnerSecret).toBeUndefined();
      expect(readFileSync(join(wt, "built.txt"), "utf8")).toBe("ok");
      expect(lines.some((l) => l.startsWith("sandbox: worktree chown to uid"))).toBe(true);
      // Fail closed: no sandbox, no gate.
      const closed = await runGate(node("require('fs').writeFileSync('ran.txt', '1')"), wt, {
        sandbox: { bwrap: "/nonexistent/bwrap" },
      });
      expect(closed.ok).toBe(false);
      expect(closed.outputTail).toContain("cannot start the sandbox, nothing was run");
      expect(existsSync(join(wt, "ran.txt"))).toBe(false);
    } finally {
      delete process.env.GATE_SECRET;
      await rm(wt, { recursive: true, force: true });
    }
  });
});
