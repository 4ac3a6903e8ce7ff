import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "@forgehand/core";
import { describe, expect, it } from "vitest";
import { writePidEntry } from "./pid-registry";
import { readProc } from "./proc";
import { reapOrphans } from "./reap-orphans";
import { deadPid, fixture, isAlive, killAll, readPids, startInDir, waitFor, worktreePerTest } from "./test-support";

const wt = worktreePerTest();

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug", format: "json", write: (l) => lines.push(JSON.parse(l)) });
  return { logger, lines };
}

describe("reapOrphans", () => {
  it("kills the agent tree a SIGKILLed supervisor (and its guardian) left behind, logs it, clears the registry", async () => {
    const registryDir = join(wt.dir, "data", "pids");
    const options = {
      command: [process.execPath, fixture("tree.mjs")],
      cwd: wt.dir,
      env: { PID_FILE: wt.pidFile },
      prompt: { via: "stdin", text: "go" },
      parser: "lines",
      limits: {},
      killGraceMs: 200,
      registryDir,
      runId: "run-crash",
    };
    const runner = spawn(
      process.execPath,
      ["--import", "tsx", fixture("crashing-supervisor.mjs"), JSON.stringify(options)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    runner.stdout.on("data", (chunk) => {
      out += chunk;
    });
    await waitFor(() => out.includes("supervising"), 20_000, "the supervisor to start the agent");
    const pids = readPids(wt.pidFile);
    expect(pids).toHaveLength(3);
    expect(existsSync(join(registryDir, "run-crash.json"))).toBe(true);

    runner.kill("SIGKILL");
    await waitFor(() => runner.exitCode !== null || runner.signalCode !== null, 10_000, "the supervisor to die");
    // With its guardian killed too, the crash left the agent running: only reapOrphans can end it now.
    expect(pids.filter(isAlive)).toEqual(pids);

    const { logger, lines } = captureLogger();
    const reports = await reapOrphans(registryDir, logger, { graceMs: 200 });

    expect(pids.filter(isAlive)).toEqual([]);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.killed.sort()).toEqual([...pids].sort());
    expect(reports[0]!.survivors).toEqual([]);
    expect(readdirSync(registryDir)).toEqual([]);
    const warn = lines.find((l) => l.msg === "killed orphaned agent processes left by a crashed runner");
    expect(warn).toMatchObject({ level: "warn", runId: "run-crash", pid: pids[0] });
  });

  it("leaves runs of a live supervisor alone and ignores unreadable entries", async () => {
    const registryDir = join(wt.dir, "pids");
    mkdirSync(registryDir);
    const entry = {
      runId: "live",
      pid: process.pid,
      pgid: process.pid,
      cwd: wt.dir,
      supervisorPid: process.pid,
      supervisorStartTime: readProc(process.pid)?.startTime,
      startedAt: new Date().toISOString(),
    };
    await writePidEntry(registryDir, entry);
    writeFileSync(join(registryDir, "garbage.json"), "{not json");
    const { logger, lines } = captureLogger();

    const reports = await reapOrphans(registryDir, logger, { graceMs: 100 });

    expect(reports).toEqual([]);
    expect(isAlive(process.pid)).toBe(true);
    expect(readdirSync(registryDir).sort()).toEqual(["garbage.json", "live.json"]);
    expect(lines.find((l) => l.msg === "unreadable pid registry entry ignored")).toBeDefined();
  });

  it("kills what a pending entry's cwd holds (and its descendants) when the supervisor died before the full entry", async () => {
    const worktree = join(wt.dir, "worktree");
    const outside = join(wt.dir, "outside");
    mkdirSync(join(worktree, "sub"), { recursive: true });
    mkdirSync(outside);
    const outsidePids = join(wt.dir, "outside-pids.txt");
    const others: number[] = [];
    try {
      // Spawned, but its supervisor died before it could list the pid: only the cwd names the run.
      startInDir(join(worktree, "sub"), wt.pidFile);
      startInDir(outside, outsidePids);
      await waitFor(() => readPids(wt.pidFile).length === 2 && readPids(outsidePids).length === 2, 10_000, "both");
      others.push(...readPids(outsidePids));
      const pids = readPids(wt.pidFile);
      const registryDir = join(wt.dir, "pids");
      const base = { supervisorPid: deadPid(), supervisorStartTime: 1, startedAt: new Date().toISOString() };
      await writePidEntry(registryDir, { ...base, runId: "run-pending", cwd: worktree });
      // A pending entry whose cwd is "/" names every process: it must kill nothing.
      await writePidEntry(registryDir, { ...base, runId: "run-root", cwd: "/" });
      const { logger, lines } = captureLogger();

      const reports = await reapOrphans(registryDir, logger, { graceMs: 200 });

      expect(pids.filter(isAlive)).toEqual([]);
      expect(others.filter(isAlive)).toEqual(others);
      expect(isAlive(process.pid)).toBe(true);
      expect(reports).toHaveLength(1);
      expect(reports[0]!.killed.sort()).toEqual([...pids].sort());
      expect(reports[0]!.survivors).toEqual([]);
      expect(readdirSync(registryDir)).toEqual([]);
      const warn = lines.find((l) => l.msg === "killed orphaned agent processes left by a crashed runner");
      expect(warn).toMatchObject({ runId: "run-pending", cwd: worktree });
    } finally {
      killAll(others);
    }
  });

  it("returns nothing for a registry directory that does not exist yet", async () => {
    expect(await reapOrphans(join(wt.dir, "missing"))).toEqual([]);
  });
});
