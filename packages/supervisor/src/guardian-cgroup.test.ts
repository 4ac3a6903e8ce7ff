// The guardian ends a dead runner's run cgroup at once (cgroup.kill, verified empty, rmdir), on the real cgroup2
// hierarchy, and leaves a cgroup that is not forgehand's alone.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { stopGuardian } from "./guardian";
import { toCgroup2Path } from "./reap-run-cgroup";
import { createRunCgroup, detectCgroupSupport } from "./sandbox/run-cgroup";
import { deadPid, fixture, isAlive, killAll, waitFor, worktreePerTest } from "./test-support";

const wt = worktreePerTest();
const support = await detectCgroupSupport();
const pids: number[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await stopGuardian();
  killAll(pids.splice(0));
  for (const dir of dirs.splice(0)) {
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

async function sleeperIn(cgroupDir: string): Promise<number> {
  const procs = join(cgroupDir, "cgroup.procs");
  const child = spawn("/bin/sh", ["-c", 'echo $$ > "$0" && exec sleep 300', procs], {
    cwd: "/tmp",
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  const pid = child.pid as number;
  pids.push(pid);
  await waitFor(() => readFileSync(procs, "utf8").split("\n").includes(String(pid)), 5000, "the cgroup move");
  return pid;
}

function guardianLog(registryDir: string): Record<string, unknown>[] {
  const path = join(registryDir, "guardian.log");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

describe.skipIf(!support.available)("agent guardian and run cgroups (real cgroup2)", () => {
  it("cgroup.kills and removes a SIGKILLed runner's run cgroup, leaves a foreign cgroup alone", async () => {
    const registryDir = join(wt.dir, "data", "agents");
    const worktree = join(wt.dir, "data", "workspaces", "worktrees", "gitea", "acme", "app", "5");
    mkdirSync(worktree, { recursive: true });
    const run = await createRunCgroup({ name: `q3-guardian-${randomUUID().slice(0, 8)}` });
    dirs.push(run.path);
    const escapee = await sleeperIn(run.path);
    const foreign = join(support.mount as string, `q3-foreign-${randomUUID().slice(0, 8)}`);
    mkdirSync(foreign);
    dirs.push(foreign);
    const innocent = await sleeperIn(foreign);
    // The runner stand-in writes the run's entry (its bwrap already gone) and a second one naming the foreign cgroup.
    const gone = deadPid();
    const entry = {
      registryDir,
      runId: "run-cg",
      cwd: worktree,
      pid: gone,
      pgid: gone,
      cgroup: toCgroup2Path(run.path),
    };
    const host = spawn(
      process.execPath,
      ["--import", "tsx", fixture("guardian-host.mjs"), "entry", JSON.stringify(entry)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    pids.push(host.pid as number);
    let out = "";
    host.stdout.on("data", (chunk) => {
      out += chunk;
    });
    await waitFor(() => out.includes("ready"), 20_000, "the host to write its entry");
    const guardian = Number(/guardian (\d+)/.exec(out)?.[1]);
    pids.push(guardian);
    const planted = JSON.parse(readFileSync(join(registryDir, "run-cg.json"), "utf8"));
    const { writePidEntry } = await import("./pid-registry");
    await writePidEntry(registryDir, { ...planted, runId: "run-foreign", cgroup: toCgroup2Path(foreign) });

    host.kill("SIGKILL");

    await waitFor(() => !isAlive(guardian), 10_000, "the guardian to finish");
    expect(isAlive(escapee)).toBe(false);
    expect(existsSync(run.path)).toBe(false);
    expect(existsSync(join(registryDir, "run-cg.json"))).toBe(false);
    expect(isAlive(innocent)).toBe(true);
    expect(existsSync(foreign)).toBe(true);
    const log = guardianLog(registryDir);
    expect(
      log.find((l) => l.msg === "agent verified gone; registry entry removed" && l.runId === "run-cg"),
    ).toMatchObject({
      killed: [escapee],
      cgroup: run.path,
      cgroupRemoved: true,
    });
    expect(log.find((l) => l.msg === "run cgroup left alone")).toMatchObject({ runId: "run-foreign" });
  }, 40_000);
});
