import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, stop as stopEsbuild } from "esbuild";
import { describe, expect, it } from "vitest";
import { killTree } from "./kill-tree";
import { readProc } from "./proc";
import { fixture, isAlive, readPids, waitFor, worktreePerTest } from "./test-support";
import type { KillReport } from "./types";

describe("killTree", () => {
  const wt = worktreePerTest();

  const start = (name: string, args: string[] = []): ChildProcess =>
    spawn(process.execPath, [fixture(name), ...args], {
      cwd: wt.dir,
      env: { PATH: process.env.PATH ?? "", PID_FILE: wt.pidFile },
      detached: true,
      stdio: "ignore",
    });

  it("kills a child and grandchild that ignore SIGTERM and SIGHUP, escalating to SIGKILL", async () => {
    const child = start("tree.mjs");
    await waitFor(() => readPids(wt.pidFile).length >= 3, 10_000, "3 pids");
    const pids = readPids(wt.pidFile);
    expect(pids.every(isAlive)).toBe(true);

    const report = await killTree({ pid: child.pid!, pgid: child.pid! }, { graceMs: 200 });

    expect(pids.filter(isAlive)).toEqual([]);
    expect(report.survivors).toEqual([]);
    expect(report.escalated).toBe(true);
    expect(report.killed.sort()).toEqual([...pids].sort());
    expect(report.durationMs).toBeGreaterThanOrEqual(190);
  });

  it("returns before the grace period ends when SIGTERM suffices", async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" });
    await waitFor(() => isAlive(child.pid!), 5000, "spawn");

    const report = await killTree({ pid: child.pid!, pgid: child.pid! }, { graceMs: 5000 });

    // The proof of "returns early" is the duration, far below the 5 s grace. `escalated` is not asserted:
    // under heavy load a process caught mid-exit can read as running for one more scan and get a
    // (harmless) SIGKILL, which made that flag flaky in CI-like runs.
    expect(report.killed).toEqual([child.pid]);
    expect(report.durationMs).toBeLessThan(2000);
    expect(isAlive(child.pid!)).toBe(false);
  });

  it("finds a double-forked setsid escapee by its cwd inside the worktree", async () => {
    const child = start("escapee.mjs");
    await waitFor(() => readPids(wt.pidFile).length >= 2, 10_000, "escapee pid");
    const [, escapee] = readPids(wt.pidFile);
    expect(isAlive(escapee!)).toBe(true);

    // Without cwdInside the escapee is in no tree or group of the root: it survives (and is not reported).
    const partial = await killTree({ pid: child.pid!, pgid: child.pid! }, { graceMs: 100 });
    expect(partial.killed).toEqual([child.pid]);
    expect(isAlive(escapee!)).toBe(true);

    const report = await killTree({ pid: child.pid!, cwdInside: wt.dir }, { graceMs: 100 });
    expect(report.killed).toEqual([escapee]);
    expect(isAlive(escapee!)).toBe(false);
  });

  it.runIf(process.getuid?.() === 0)("names survivors by pid and command when a process cannot be killed", async () => {
    const victim = start("ignore-term.mjs");
    await waitFor(() => readPids(wt.pidFile).length === 1, 10_000, "victim pid");
    // killTree runs as `nobody`: every signal to the victim (ours, root's) fails with EPERM. `nobody` may not be
    // able to read the checkout (CI clones into a 0700 temp dir), so the killer is bundled into a readable dir.
    const killerDir = mkdtempSync(join(tmpdir(), "fh-killer-"));
    chmodSync(killerDir, 0o755);
    const killerFile = join(killerDir, "kill-as-is.mjs");
    await build({
      entryPoints: [fixture("kill-as-is.mjs")],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: killerFile,
      logLevel: "silent",
      // Bundled CommonJS dependencies call require(); give the ESM bundle one.
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    });
    // esbuild keeps a service child in our process group; stop it so the own-group test below finds only us.
    await stopEsbuild();
    chmodSync(killerFile, 0o644);
    const killer = spawnSync(process.execPath, [killerFile, String(victim.pid)], {
      cwd: killerDir,
      uid: 65534,
      gid: 65534,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(killer.status, killer.stderr).toBe(0);
    const report = JSON.parse(killer.stdout) as KillReport;
    expect(report.survivors).toEqual([
      { pid: victim.pid, command: `${process.execPath} ${fixture("ignore-term.mjs")}` },
    ]);
    expect(report.killed).toEqual([]);
    expect(report.escalated).toBe(true);
    expect(report.durationMs).toBeGreaterThanOrEqual(350);
    expect(isAlive(victim.pid!)).toBe(true);
    rmSync(killerDir, { recursive: true, force: true });
  });

  it("reports nothing killed for a process that is already gone", async () => {
    const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
    await new Promise((resolve) => child.once("exit", resolve));
    const report = await killTree({ pid: child.pid!, pgid: child.pid!, cwdInside: wt.dir }, { graceMs: 1000 });
    expect(report).toMatchObject({ killed: [], survivors: [], escalated: false });
    expect(report.durationMs).toBeLessThan(1000);
  });

  it("rejects a bad grace period with the value echoed", async () => {
    await expect(killTree({ pid: 123 }, { graceMs: -1 })).rejects.toThrow(
      "[supervisor] Expected `graceMs` >= 0, got `-1`",
    );
  });

  it("without a root pid, refuses a cwd of / (it would name every process) and a missing cwd", async () => {
    await expect(killTree({ cwdInside: "/" }, { graceMs: 0 })).rejects.toThrow("`cwdInside` other than /, got `/`");
    await expect(killTree({ cwdInside: "/tmp/.." }, { graceMs: 0 })).rejects.toThrow("got `/tmp/..`");
    await expect(killTree({}, { graceMs: 0 })).rejects.toThrow("[supervisor] Expected a `pid`");
  });

  it("with a root pid, a cwd of / sweeps only the tree: a bystander elsewhere survives", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "fh-bystander-"));
    const bystander = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      cwd: elsewhere,
      detached: true,
      stdio: "ignore",
    });
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { detached: true, stdio: "ignore" });
    // Both are this test process's children: wait for their exits so the next test's tree finds neither.
    const gone = [bystander, child].map((p) => new Promise((resolve) => p.once("exit", resolve)));
    try {
      await waitFor(() => isAlive(bystander.pid!) && isAlive(child.pid!), 5000, "spawn");
      const report = await killTree({ pid: child.pid!, pgid: child.pid!, cwdInside: "/" }, { graceMs: 200 });
      expect(report.killed).toEqual([child.pid]);
      expect(isAlive(bystander.pid!)).toBe(true);
    } finally {
      bystander.kill("SIGKILL");
      child.kill("SIGKILL");
      await Promise.all(gone);
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("never targets its own process or group even when asked to", async () => {
    const report = await killTree({ pid: process.pid, pgid: readProc(process.pid)!.pgid }, { graceMs: 0 });
    expect(report.killed).toEqual([]);
    expect(isAlive(process.pid)).toBe(true);
  });
});
