import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive } from "../../../../test/helpers/alive";
import { GATE_TAIL_BYTES, runGate } from "./run-gate";

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "fh-gate-"));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const node = (code: string) => [process.execPath, "-e", code];

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
});
