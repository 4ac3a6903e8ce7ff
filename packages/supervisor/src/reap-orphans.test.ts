import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "@forgehand/core";
import { describe, expect, it } from "vitest";
import { type AgentPidEntry, writePidEntry } from "./pid-registry";
import { readProc } from "./proc";
import { reapOrphans } from "./reap-orphans";
import { deadPid, fixture, isAlive, killAll, readPids, startInDir, waitFor, worktreePerTest } from "./test-support";

const wt = worktreePerTest();

/** The runner's layout: `<data>/agents` is the registry, agents' cwds are under `<data>/workspaces/worktrees`. */
function dataLayout() {
  const data = join(wt.dir, "data");
  const registryDir = join(data, "agents");
  const worktree = join(data, "workspaces", "worktrees", "github", "acme", "app", "7");
  mkdirSync(worktree, { recursive: true });
  return { data, registryDir, worktree, sweepRoot: join(data, "workspaces", "worktrees") };
}

/** A live process forgehand did not start (the "innocent" a planted entry would name). */
function innocent(cwd = "/"): number {
  const child = spawn("sleep", ["300"], { cwd, detached: true, stdio: "ignore" });
  child.unref();
  const pid = child.pid as number;
  others.push(pid);
  return pid;
}
const others: number[] = [];

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug", format: "json", write: (l) => lines.push(JSON.parse(l)) });
  return { logger, lines };
}

describe("reapOrphans", () => {
  it("kills the agent tree a SIGKILLed supervisor (and its guardian) left behind, logs it, clears the registry", async () => {
    const { registryDir, worktree } = dataLayout();
    const options = {
      command: [process.execPath, fixture("tree.mjs")],
      cwd: worktree,
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
    expect(statSync(registryDir).mode & 0o777).toBe(0o700);
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
    const { registryDir, worktree: base } = dataLayout();
    const worktree = join(base, "..", "8");
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
      expect(lines.find((l) => l.runId === "run-root")).toMatchObject({ reason: expect.stringMatching(/not inside/) });
    } finally {
      killAll(others);
    }
  });

  it("returns nothing for a registry directory that does not exist yet", async () => {
    expect(await reapOrphans(join(wt.dir, "missing"))).toEqual([]);
  });

  describe("never acts on an entry that does not match a process forgehand started", () => {
    const dead = () => ({ supervisorPid: deadPid(), supervisorStartTime: 1, startedAt: new Date().toISOString() });
    const full = (pid: number, extra: Partial<AgentPidEntry> = {}): AgentPidEntry => ({
      ...dead(),
      runId: "run-planted",
      pid,
      pgid: pid,
      cwd: "/tmp",
      startTime: readProc(pid)?.startTime,
      ...extra,
    });
    const reap = async (registryDir: string) => {
      const { logger, lines } = captureLogger();
      const reports = await reapOrphans(registryDir, logger, { graceMs: 100 });
      return { reports, lines };
    };
    const afterEachKill = () => killAll(others.splice(0));

    it("a planted entry naming a live unrelated process with another start time: not killed, entry removed", async () => {
      try {
        const { registryDir } = dataLayout();
        // In /tmp, the entry's cwd: neither by pid nor by cwd may it be taken for the run's.
        const pid = innocent("/tmp");
        await waitFor(() => readProc(pid) !== undefined, 5_000, "the innocent process");
        await writePidEntry(registryDir, full(pid, { startTime: (readProc(pid)?.startTime as number) + 7 }));

        const { reports, lines } = await reap(registryDir);

        expect(isAlive(pid)).toBe(true);
        expect(reports).toEqual([]);
        expect(readdirSync(registryDir)).toEqual([]);
        const warn = lines.find((l) => String(l.msg).startsWith("pid registry entry does not match"));
        expect(warn).toMatchObject({ runId: "run-planted", reason: expect.stringMatching(/is another process/) });
      } finally {
        afterEachKill();
      }
    });

    it("a full entry without a start time, or whose pgid is another group, kills nothing", async () => {
      try {
        const { registryDir } = dataLayout();
        const pid = innocent();
        const group = innocent();
        await waitFor(() => readProc(pid) !== undefined && readProc(group) !== undefined, 5_000, "the processes");
        await writePidEntry(registryDir, full(pid, { runId: "no-start", startTime: undefined }));
        await writePidEntry(registryDir, full(deadPid(), { runId: "other-group", pgid: group, startTime: 1 }));

        const { reports } = await reap(registryDir);

        expect([pid, group].filter(isAlive)).toEqual([pid, group]);
        expect(reports).toEqual([]);
        expect(readdirSync(registryDir)).toEqual([]);
      } finally {
        afterEachKill();
      }
    });

    it("an entry file others can write (0666), or owned by another uid, is ignored and removed", async () => {
      try {
        const { registryDir } = dataLayout();
        const pid = innocent();
        await waitFor(() => readProc(pid) !== undefined, 5_000, "the innocent process");
        // Everything else about it matches: only the file's permissions say it may be forged.
        await writePidEntry(registryDir, full(pid, { runId: "world-writable" }));
        chmodSync(join(registryDir, "world-writable.json"), 0o666);
        await writePidEntry(registryDir, full(pid, { runId: "foreign" }));
        if (process.getuid?.() === 0) (await import("node:fs")).chownSync(join(registryDir, "foreign.json"), 999, 999);

        const { reports, lines } = await reap(registryDir);

        expect(isAlive(pid)).toBe(true);
        expect(reports).toEqual([]);
        expect(readdirSync(registryDir)).toEqual([]);
        const reasons = lines.filter((l) => l.msg === "untrusted pid registry file removed, nothing killed");
        expect(reasons.map((l) => l.reason)).toEqual(
          process.getuid?.() === 0
            ? [expect.stringMatching(/owned by uid 999/), "writable by group/others (mode 666)"]
            : ["writable by group/others (mode 666)"],
        );
      } finally {
        afterEachKill();
      }
    });

    it("pending entries whose cwd is /, /tmp, outside the worktrees root or the root itself kill nothing", async () => {
      try {
        const { registryDir, sweepRoot } = dataLayout();
        const inTmp = innocent("/tmp");
        const inData = innocent(join(wt.dir, "data"));
        const inRoot = innocent(sweepRoot);
        await waitFor(() => [inTmp, inData, inRoot].every((p) => readProc(p) !== undefined), 5_000, "the processes");
        const cwds: [string, string][] = [
          ["root", "/"],
          ["tmp", "/tmp"],
          ["data", join(wt.dir, "data")],
          ["sweep-root", sweepRoot],
          ["escape", join(sweepRoot, "..", "..")],
          ["relative", "workspaces/worktrees/x"],
        ];
        for (const [runId, cwd] of cwds) await writePidEntry(registryDir, { ...dead(), runId, cwd });

        const { reports, lines } = await reap(registryDir);

        expect([inTmp, inData, inRoot].filter(isAlive)).toEqual([inTmp, inData, inRoot]);
        expect(reports).toEqual([]);
        expect(readdirSync(registryDir)).toEqual([]);
        expect(lines.filter((l) => String(l.msg).startsWith("pid registry entry does not match"))).toHaveLength(6);
      } finally {
        afterEachKill();
      }
    });

    it("checks a recorded uid and cgroup: a mismatch kills nothing, a match reaps the orphan", async () => {
      try {
        const { registryDir, worktree } = dataLayout();
        const wrongUid = innocent();
        const wrongCgroup = innocent();
        const orphan = innocent(worktree);
        await waitFor(() => [wrongUid, wrongCgroup, orphan].every((p) => readProc(p) !== undefined), 5_000, "procs");
        const uid = process.getuid?.() as number;
        await writePidEntry(registryDir, full(wrongUid, { runId: "uid", uid: uid + 4242 }));
        await writePidEntry(registryDir, full(wrongCgroup, { runId: "cgroup", cgroup: "/forgehand/not-this-run" }));
        await writePidEntry(registryDir, full(orphan, { runId: "genuine", uid, cwd: worktree }));

        const { reports, lines } = await reap(registryDir);

        expect(isAlive(wrongUid)).toBe(true);
        expect(isAlive(wrongCgroup)).toBe(true);
        expect(isAlive(orphan)).toBe(false);
        expect(reports).toHaveLength(1);
        expect(reports[0]!.killed).toEqual([orphan]);
        expect(readdirSync(registryDir)).toEqual([]);
        const reasons = lines.filter((l) => String(l.msg).startsWith("pid registry entry does not match"));
        expect(reasons.map((l) => [l.runId, l.reason])).toEqual([
          ["cgroup", `pid ${wrongCgroup} is not in cgroup /forgehand/not-this-run`],
          ["uid", `pid ${wrongUid} runs as uid ${uid}, recorded ${uid + 4242}`],
        ]);
      } finally {
        afterEachKill();
      }
    });
  });
});
