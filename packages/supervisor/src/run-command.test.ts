import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stopGuardian } from "./guardian";
import type { PidEntry } from "./pid-registry";
import { runCommand } from "./run-command";
import { fixture, isAlive, readPids, waitFor, worktreePerTest } from "./test-support";

const wt = worktreePerTest();
afterAll(() => stopGuardian());

const node = (code: string) => [process.execPath, "-e", code];
const env = () => ({ PID_FILE: wt.pidFile });

describe("runCommand", () => {
  it("captures stdout, stderr and the exit code; exact env, cwd, input on stdin; no kill after a clean exit", async () => {
    const code = `
      let input = "";
      process.stdin.on("data", (c) => (input += c)).on("end", () => {
        console.log(JSON.stringify({ cwd: process.cwd(), keys: Object.keys(process.env).sort(), input }));
        console.error("to stderr");
        process.exit(3);
      });`;
    const r = await runCommand({ argv: node(code), cwd: wt.dir, env: { ONLY: "me" }, input: "hello\n" });
    expect(JSON.parse(r.stdout)).toEqual({ cwd: wt.dir, keys: ["ONLY"], input: "hello\n" });
    expect(r).toMatchObject({ exitCode: 3, signal: null, stderr: "to stderr\n", timedOut: false, aborted: false });
    expect(r.tail).toContain("to stderr");
    // Nothing was left in the group: no kill, and so no /proc scan.
    expect(r.kill).toBeUndefined();
  });

  it("keeps at most maxBufferBytes per stream and the last tailBytes of the combined output", async () => {
    const code = "for (let i = 0; i < 2000; i++) console.log('line ' + i); console.log('THE END')";
    const r = await runCommand({ argv: node(code), cwd: wt.dir, env: {}, maxBufferBytes: 100, tailBytes: 64 });
    expect(r.exitCode).toBe(0);
    expect(r.truncated).toBe(true);
    expect(r.stdout).toHaveLength(100);
    expect(r.stdout.startsWith("line 0\n")).toBe(true);
    expect(Buffer.byteLength(r.tail)).toBeLessThanOrEqual(64);
    expect(r.tail.endsWith("THE END\n")).toBe(true);
  });

  it("reports a command that cannot start as a spawnError, and rejects bad options before spawning", async () => {
    const r = await runCommand({ argv: [join(wt.dir, "no-such-command")], cwd: wt.dir, env: {} });
    expect(r.exitCode).toBeNull();
    expect(r.spawnError?.message).toContain("ENOENT");
    await expect(runCommand({ argv: [], cwd: wt.dir, env: {} })).rejects.toThrow(/\[supervisor\] Expected `argv`/);
    await expect(runCommand({ argv: ["true"], cwd: wt.dir, env: {}, timeoutMs: -1 })).rejects.toThrow(
      /Expected `timeoutMs` >= 0, got `-1`/,
    );
  });

  it("on timeout kills the whole tree, even processes ignoring SIGTERM, before it resolves", async () => {
    const r = await runCommand({
      argv: [process.execPath, fixture("tree.mjs")],
      cwd: wt.dir,
      env: env(),
      timeoutMs: 1500,
      killGraceMs: 200,
    });
    const pids = readPids(wt.pidFile);
    expect(pids).toHaveLength(3);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(r).toMatchObject({ timedOut: true, aborted: false, exitCode: null, signal: "SIGKILL" });
    expect(r.kill).toMatchObject({ escalated: true, survivors: [] });
    expect(r.tail).toContain("ready");
  });

  it("on abort kills a setsid escapee found only by its cwd inside sweepDir", async () => {
    const controller = new AbortController();
    const running = runCommand({
      argv: [process.execPath, fixture("escapee.mjs")],
      cwd: wt.dir,
      env: env(),
      signal: controller.signal,
      killGraceMs: 200,
      sweepDir: wt.dir,
    });
    await waitFor(() => readPids(wt.pidFile).length >= 2, 10_000, "agent and escapee pids");
    controller.abort();
    const r = await running;
    const pids = readPids(wt.pidFile);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(r).toMatchObject({ aborted: true, timedOut: false });
    expect(r.kill?.killed).toEqual(expect.arrayContaining(pids));
  });

  it("an already-aborted signal spawns nothing", async () => {
    const r = await runCommand({
      argv: node("require('fs').writeFileSync('ran', '')"),
      cwd: wt.dir,
      env: {},
      signal: AbortSignal.abort(),
    });
    expect(r).toMatchObject({ aborted: true, exitCode: null });
    expect(existsSync(join(wt.dir, "ran"))).toBe(false);
  });

  it("after a clean exit kills what is left in its process group (one kill(2) finds it)", async () => {
    const r = await runCommand({
      argv: [process.execPath, fixture("leaves-child.mjs")],
      cwd: wt.dir,
      env: env(),
      killGraceMs: 200,
    });
    const pids = readPids(wt.pidFile);
    expect(r.exitCode).toBe(0);
    expect(pids).toHaveLength(2);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(r.kill?.killed).toContain(pids[1]);
  });

  it("is listed in the pid registry while it runs (with its pid), and removed once it is gone", async () => {
    const registryDir = join(wt.dir, "registry");
    const entryPath = join(registryDir, "run-7.gate.json");
    const controller = new AbortController();
    const running = runCommand({
      argv: [process.execPath, fixture("ignore-term.mjs")],
      cwd: wt.dir,
      env: env(),
      signal: controller.signal,
      killGraceMs: 100,
      registry: { dir: registryDir, runId: "run-7.gate" },
    });
    await waitFor(() => readPids(wt.pidFile).length === 1, 10_000, "the command's pid");
    const [pid] = readPids(wt.pidFile);
    await waitFor(() => existsSync(entryPath) && readFileSync(entryPath, "utf8").includes('"pid"'), 5000, "entry");
    const entry = JSON.parse(readFileSync(entryPath, "utf8")) as PidEntry;
    expect(entry).toMatchObject({ runId: "run-7.gate", pid, pgid: pid, cwd: wt.dir, supervisorPid: process.pid });
    controller.abort();
    const r = await running;
    expect(r.kill?.survivors).toEqual([]);
    expect(existsSync(entryPath)).toBe(false);
  });
});
