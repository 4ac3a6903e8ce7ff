// Run cgroups a crashed runner left behind, on the real cgroup2 hierarchy: reapOrphans `cgroup.kill`s and removes
// forgehand's own (a process in it with cwd /tmp is found by nothing else), and never touches any other cgroup.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { pidEntryMismatch } from "./pid-entry-mismatch";
import { type AgentPidEntry, readPidEntries, writePidEntry } from "./pid-registry";
import { reapOrphans } from "./reap-orphans";
import { reapRunCgroup, runCgroupDir, runCgroupParent, toCgroup2Path } from "./reap-run-cgroup";
import { resolveAgentIdentity } from "./sandbox/agent-identity";
import { createRunCgroup, detectCgroupSupport, type RunCgroup } from "./sandbox/run-cgroup";
import { bwrapForTests } from "./sandbox/test-support";
import { deadPid, fixture, isAlive, killAll, waitFor, worktreePerTest } from "./test-support";

const wt = worktreePerTest();
const support = await detectCgroupSupport();
const bwrap = bwrapForTests();
const pids: number[] = [];
const dirs: string[] = [];

afterEach(async () => {
  killAll(pids.splice(0));
  for (const dir of dirs.splice(0).reverse()) {
    try {
      writeFileSync(join(dir, "cgroup.kill"), "1");
    } catch {}
    // Busy until the killed processes are reaped: retry for a while, not in a tight loop.
    for (let i = 0; i < 100 && existsSync(dir); i++) {
      try {
        rmdirSync(dir);
      } catch {
        await sleep(20);
      }
    }
  }
});

function dataLayout() {
  const registryDir = join(wt.dir, "data", "agents");
  const worktree = join(wt.dir, "data", "workspaces", "worktrees", "gitea", "acme", "app", "4");
  mkdirSync(worktree, { recursive: true });
  return { registryDir, worktree };
}

/** `sleep` moved into `procsFile`'s cgroup before it execs, in its own session, cwd /tmp (no scan finds it). */
async function sleeperIn(procsFile: string): Promise<number> {
  const child = spawn("/bin/sh", ["-c", 'echo $$ > "$0" && exec sleep 300', procsFile], {
    cwd: "/tmp",
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  const pid = child.pid as number;
  pids.push(pid);
  await waitFor(() => readFileSync(procsFile, "utf8").split("\n").includes(String(pid)), 5000, "the cgroup move");
  return pid;
}

async function runCgroup(): Promise<RunCgroup> {
  const cg = await createRunCgroup({ name: `q3-crashed-${randomUUID().slice(0, 8)}` });
  dirs.push(cg.path);
  return cg;
}

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug", format: "json", write: (l) => lines.push(JSON.parse(l)) });
  return { logger, lines };
}

describe.skipIf(!support.available)("run cgroups left by a crashed runner (real cgroup2)", () => {
  it("places run cgroups where createRunCgroup makes them, and refuses every other path", async () => {
    const cg = await runCgroup();
    const parent = runCgroupParent() as string;
    expect(parent).toBe(support.parent);
    expect(runCgroupDir(toCgroup2Path(cg.path))).toEqual({ dir: cg.path });
    expect(runCgroupDir(cg.path)).toEqual({ dir: cg.path });
    for (const bad of ["/", "relative", `${toCgroup2Path(parent)}`, `${toCgroup2Path(parent)}/../x`, "/system.slice/x"])
      expect(runCgroupDir(bad)).toHaveProperty("refused");
    expect(runCgroupDir(`${toCgroup2Path(cg.path)}/child`)).toHaveProperty("refused");
  });

  it("reapOrphans kills a crashed run's cgroup with a process in it, removes it and the entry", async () => {
    const { registryDir, worktree } = dataLayout();
    const cg = await runCgroup();
    const escapee = await sleeperIn(join(cg.path, "cgroup.procs"));
    // The run's bwrap is gone (its pid dead); the escapee is in no group of it and its cwd is /tmp.
    const gone = deadPid();
    const base = { supervisorPid: deadPid(), supervisorStartTime: 1, startedAt: new Date().toISOString() };
    await writePidEntry(registryDir, {
      ...base,
      runId: "run-crashed",
      cwd: worktree,
      pid: gone,
      pgid: gone,
      cgroup: toCgroup2Path(cg.path),
    });
    // A crash between the spawn and the full entry: the pending entry names the cgroup too.
    const cg2 = await runCgroup();
    const escapee2 = await sleeperIn(join(cg2.path, "cgroup.procs"));
    await writePidEntry(registryDir, { ...base, runId: "run-pending", cwd: worktree, cgroup: toCgroup2Path(cg2.path) });
    const { logger, lines } = captureLogger();

    const reports = await reapOrphans(registryDir, logger, { graceMs: 100 });

    expect(isAlive(escapee)).toBe(false);
    expect(isAlive(escapee2)).toBe(false);
    expect(existsSync(cg.path)).toBe(false);
    expect(existsSync(cg2.path)).toBe(false);
    expect(reports.flatMap((r) => r.killed).sort()).toEqual([escapee, escapee2].sort());
    expect(reports.flatMap((r) => r.survivors)).toEqual([]);
    expect(readdirSync(registryDir)).toEqual([]);
    expect(lines.filter((l) => l.msg === "run cgroup removed")).toHaveLength(2);
  });

  it("leaves a cgroup that is not forgehand's run cgroup alone, with whatever runs in it", async () => {
    const { registryDir, worktree } = dataLayout();
    // Another service's cgroup beside forgehand's parent, named by a (planted or corrupt) entry.
    const foreign = join(support.mount as string, `q3-foreign-${randomUUID().slice(0, 8)}`);
    mkdirSync(foreign);
    dirs.push(foreign);
    const innocent = await sleeperIn(join(foreign, "cgroup.procs"));
    const gone = deadPid();
    await writePidEntry(registryDir, {
      runId: "run-foreign",
      cwd: worktree,
      supervisorPid: deadPid(),
      startedAt: new Date().toISOString(),
      pid: gone,
      pgid: gone,
      cgroup: toCgroup2Path(foreign),
    });
    const { logger, lines } = captureLogger();

    await reapOrphans(registryDir, logger, { graceMs: 100 });

    expect(isAlive(innocent)).toBe(true);
    expect(existsSync(foreign)).toBe(true);
    expect(lines.find((l) => l.msg === "run cgroup left alone")).toMatchObject({ cgroup: toCgroup2Path(foreign) });
    expect(await reapRunCgroup(foreign)).toHaveProperty("refused");
  });

  it.skipIf(!bwrap)(
    "a sandboxed run's entry records bwrap's uid and the run cgroup, and matches the live run",
    async () => {
      const { registryDir, worktree } = dataLayout();
      const { chmodSync } = await import("node:fs");
      for (let d = worktree; d.startsWith(wt.dir); d = join(d, "..")) chmodSync(d, 0o755);
      const options = {
        command: [process.execPath, fixture("tree.mjs")],
        cwd: worktree,
        // Inside the worktree: the one place the sandboxed agent can write.
        env: { PID_FILE: join(worktree, "pids.txt"), PATH: "/usr/bin:/bin" },
        prompt: { via: "stdin", text: "go" },
        parser: "lines",
        limits: {},
        killGraceMs: 200,
        registryDir,
        runId: "run-sbx-crash",
        sandbox: { identity: resolveAgentIdentity(), readOnly: [join(fixture("lib.mjs"), "..")] },
      };
      const runner = spawn(
        process.execPath,
        ["--import", "tsx", fixture("crashing-supervisor.mjs"), JSON.stringify(options)],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      pids.push(runner.pid as number);
      let out = "";
      runner.stdout.on("data", (chunk) => {
        out += chunk;
      });
      await waitFor(() => out.includes("supervising"), 20_000, "the supervisor to start the sandboxed agent");
      const { entries } = await readPidEntries(registryDir);
      const entry = entries[0] as AgentPidEntry;
      expect(entry.uid).toBe(process.getuid?.());
      expect(entry.cgroup).toMatch(/^\/forgehand\/run-[A-Za-z0-9-]+$/);
      const dir = join(support.mount as string, entry.cgroup as string);
      expect(existsSync(dir)).toBe(true);
      dirs.push(dir);
      // The live bwrap is what the entry names: the reapers would act on it (not refuse it as a mismatch).
      expect(pidEntryMismatch(entry)).toBeUndefined();
      expect(pidEntryMismatch({ ...entry, uid: 999 })).toMatch(/uid/);

      runner.kill("SIGKILL");
      await waitFor(() => runner.exitCode !== null || runner.signalCode !== null, 10_000, "the supervisor to die");
      // Nobody ran the sandbox's cleanup: the run cgroup stays behind until a reaper removes it.
      expect(existsSync(dir)).toBe(true);
      await reapOrphans(registryDir, createLogger({ level: "error", format: "json", write: () => {} }), {
        graceMs: 200,
      });
      expect(existsSync(dir)).toBe(false);
      expect(readdirSync(registryDir)).toEqual([]);
    },
    60_000,
  );
});
