import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ensureGuardian, stopGuardian } from "./guardian";
import { writePidEntry } from "./pid-registry";
import { readProc } from "./proc";
import { fixture, isAlive, killAll, makeWorktree, readPids, startInDir, waitFor } from "./test-support";

let wt = makeWorktree();
const leftovers: number[] = [];
afterEach(async () => {
  await stopGuardian();
  killAll([...readPids(wt.pidFile), ...leftovers.splice(0)]);
  wt.cleanup();
  wt = makeWorktree();
});
afterAll(() => wt.cleanup());

/** Starts the runner stand-in and collects its stdout lines. */
function startHost(mode: "supervise" | "entry", options: object) {
  const host = spawn(
    process.execPath,
    ["--import", "tsx", fixture("guardian-host.mjs"), mode, JSON.stringify(options)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  leftovers.push(host.pid as number);
  let out = "";
  host.stdout.on("data", (chunk) => {
    out += chunk;
  });
  const line = (prefix: string) => out.split("\n").find((l) => l.startsWith(prefix));
  return { host, line };
}

async function guardianOf(line: (prefix: string) => string | undefined): Promise<number> {
  await waitFor(() => line("guardian ") !== undefined, 20_000, "the host to start its guardian");
  const pid = Number(line("guardian ")?.split(" ")[1]);
  expect(pid).toBeGreaterThan(1);
  leftovers.push(pid);
  return pid;
}

/** The runner's layout: `<data>/agents` is the registry, agents' cwds are under `<data>/workspaces/worktrees`. */
function dataLayout() {
  const registryDir = join(wt.dir, "data", "agents");
  const sweepRoot = join(wt.dir, "data", "workspaces", "worktrees");
  const worktree = join(sweepRoot, "gitea", "acme", "app", "3");
  mkdirSync(worktree, { recursive: true });
  return { registryDir, sweepRoot, worktree };
}

const exited = (p: ChildProcess) => p.exitCode !== null || p.signalCode !== null;

function agentOptions(agent: string, registryDir: string, runId: string) {
  return {
    command: [process.execPath, fixture(agent)],
    cwd: dataLayout().worktree,
    env: { PID_FILE: wt.pidFile },
    prompt: { via: "stdin", text: "go" },
    parser: agent === "clean-exit.mjs" ? "claude-stream-json" : "lines",
    limits: {},
    killGraceMs: 200,
    registryDir,
    runId,
  };
}

function guardianLog(registryDir: string): Record<string, unknown>[] {
  const path = join(registryDir, "guardian.log");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

describe("agent guardian", () => {
  it("kills a SIGKILLed runner's agent tree at once, without a restart, and clears its registry entry", async () => {
    const { registryDir } = dataLayout();
    const { host, line } = startHost("supervise", agentOptions("tree.mjs", registryDir, "run-guarded"));
    const guardian = await guardianOf(line);
    await waitFor(() => line("supervising") !== undefined, 20_000, "the agent to start");
    const pids = readPids(wt.pidFile);
    expect(pids).toHaveLength(3);
    expect(pids.filter(isAlive)).toEqual(pids);
    expect(existsSync(join(registryDir, "run-guarded.json"))).toBe(true);
    expect(isAlive(guardian)).toBe(true);

    host.kill("SIGKILL");

    // No reapOrphans here: the guardian alone must end the agent, its child and its grandchild.
    await waitFor(() => pids.every((pid) => !isAlive(pid)), 8_000, "the guardian to kill the agent tree");
    await waitFor(() => !isAlive(guardian), 8_000, "the guardian to exit");
    expect(readdirSync(registryDir).filter((n) => n.endsWith(".json"))).toEqual([]);
    const log = guardianLog(registryDir);
    expect(log.find((l) => l.msg === "supervisor gone; killing its agent")).toMatchObject({
      runId: "run-guarded",
      pid: pids[0],
      supervisorPid: host.pid,
    });
    const done = log.find((l) => l.msg === "agent verified gone; registry entry removed");
    expect([...((done?.killed ?? []) as number[])].sort()).toEqual([...pids].sort());
  }, 40_000);

  it("a runner that exits normally is not held alive by its guardian, and the guardian exits without acting", async () => {
    const registryDir = join(wt.dir, "agents");
    const { host, line } = startHost("supervise", agentOptions("clean-exit.mjs", registryDir, "run-clean"));
    const guardian = await guardianOf(line);

    // The run ends and the event loop empties: the unref'd guardian and its pipe must not keep the host running.
    await waitFor(() => exited(host), 20_000, "the host to exit by itself");
    expect(host.exitCode).toBe(0);
    expect(line("outcome ")).toBe("outcome succeeded");
    await waitFor(() => !isAlive(guardian), 8_000, "the guardian to exit after its runner");
    expect(readdirSync(registryDir)).toEqual([]); // no entry left, nothing logged
  }, 40_000);

  it("never kills a recycled pid: an entry whose start time does not match is dropped, the process lives", async () => {
    const innocent = spawn(process.execPath, [fixture("sleeper.mjs")], { detached: true, stdio: "ignore" });
    const pid = innocent.pid as number;
    leftovers.push(pid);
    await waitFor(() => readProc(pid) !== undefined, 5_000, "the innocent process");
    const startTime = (readProc(pid)?.startTime as number) + 1; // same pid, another process: a recycled pid
    const registryDir = join(wt.dir, "agents");
    const emptyCwd = join(wt.dir, "gone-worktree");
    mkdirSync(emptyCwd);
    const entry = { registryDir, runId: "run-recycled", pid, pgid: pid, cwd: emptyCwd, startTime };
    const { host, line } = startHost("entry", entry);
    const guardian = await guardianOf(line);
    await waitFor(() => line("ready") !== undefined, 20_000, "the host to write its entry");
    expect(existsSync(join(registryDir, "run-recycled.json"))).toBe(true);

    host.kill("SIGKILL");

    await waitFor(() => !isAlive(guardian), 8_000, "the guardian to exit");
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(join(registryDir, "run-recycled.json"))).toBe(false);
    const dropped = guardianLog(registryDir).find((l) => String(l.msg).startsWith("registry entry does not match"));
    expect(dropped).toMatchObject({
      runId: "run-recycled",
      reason: `pid ${pid} is another process (start time ${startTime - 1})`,
    });
  }, 40_000);

  it("kills what a pending entry's cwd holds (and descendants) when its runner dies before the full entry", async () => {
    const { worktree } = dataLayout();
    const outside = join(wt.dir, "outside");
    mkdirSync(join(worktree, "sub"), { recursive: true });
    mkdirSync(outside);
    const outsidePids = join(wt.dir, "outside-pids.txt");
    startInDir(join(worktree, "sub"), wt.pidFile);
    startInDir(outside, outsidePids);
    await waitFor(() => readPids(wt.pidFile).length === 2 && readPids(outsidePids).length === 2, 10_000, "both");
    const others = readPids(outsidePids);
    leftovers.push(...others);
    const pids = readPids(wt.pidFile);
    const { registryDir } = dataLayout();
    // No pid, no pgid: the runner wrote the entry before the spawn and died before the full one.
    const { host, line } = startHost("entry", { registryDir, runId: "run-pending", cwd: worktree });
    const guardian = await guardianOf(line);
    await waitFor(() => line("ready") !== undefined, 20_000, "the host to write its entry");
    expect(JSON.parse(readFileSync(join(registryDir, "run-pending.json"), "utf8")).pid).toBeUndefined();

    host.kill("SIGKILL");

    await waitFor(() => pids.every((pid) => !isAlive(pid)), 8_000, "the guardian to kill the pending run's processes");
    await waitFor(() => !isAlive(guardian), 8_000, "the guardian to exit");
    expect(others.filter(isAlive)).toEqual(others);
    expect(existsSync(join(registryDir, "run-pending.json"))).toBe(false);
    const done = guardianLog(registryDir).find((l) => l.msg === "agent verified gone; registry entry removed");
    expect([...((done?.killed ?? []) as number[])].sort()).toEqual([...pids].sort());
  }, 40_000);

  it("kills nothing for a pending entry outside the worktrees root, nor for an entry file others could write", async () => {
    const { registryDir } = dataLayout();
    // Processes in /tmp-like dirs an injected agent would name: the cwd of a pending entry, the pid of a full one.
    const outside = join(wt.dir, "outside");
    mkdirSync(outside);
    startInDir(outside, wt.pidFile);
    const innocent = spawn("sleep", ["300"], { cwd: "/tmp", detached: true, stdio: "ignore" });
    const pid = innocent.pid as number;
    leftovers.push(pid);
    await waitFor(() => readPids(wt.pidFile).length === 2 && readProc(pid) !== undefined, 10_000, "the processes");
    const others = [...readPids(wt.pidFile), pid];
    const { host, line } = startHost("entry", { registryDir, runId: "run-outside", cwd: outside });
    const guardian = await guardianOf(line);
    await waitFor(() => line("ready") !== undefined, 20_000, "the host to write its entry");
    // Names the host as its supervisor and the innocent with its true start time: only the file mode gives it away.
    const supervisor = {
      supervisorPid: host.pid as number,
      supervisorStartTime: readProc(host.pid as number)?.startTime,
    };
    const planted = { ...supervisor, runId: "run-planted", pid, pgid: pid, cwd: "/tmp", startedAt: "x" };
    await writePidEntry(registryDir, { ...planted, startTime: readProc(pid)?.startTime });
    chmodSync(join(registryDir, "run-planted.json"), 0o666);

    host.kill("SIGKILL");

    await waitFor(() => !isAlive(guardian), 8_000, "the guardian to exit");
    expect(others.filter(isAlive)).toEqual(others);
    expect(existsSync(join(registryDir, "run-outside.json"))).toBe(false);
    const log = guardianLog(registryDir);
    expect(log.find((l) => String(l.msg).startsWith("registry entry does not match"))).toMatchObject({
      runId: "run-outside",
      reason: expect.stringMatching(/pending entry's cwd is not inside .*data\/workspaces\/worktrees/),
    });
    expect(log.find((l) => l.msg === "untrusted registry file ignored")).toMatchObject({
      reason: "writable by group/others (mode 666)",
    });
  }, 40_000);

  it("is started once per process, ignores SIGINT/SIGHUP/SIGTERM, and stopGuardian ends it without acting", async () => {
    const first = ensureGuardian(join(wt.dir, "a"));
    const second = ensureGuardian(join(wt.dir, "b"));
    expect(first).toBeGreaterThan(1);
    expect(second).toBe(first);
    expect(isAlive(first as number)).toBe(true);
    // A Ctrl-C, hangup or stray SIGTERM must not end it: it only ends when this process does (or on stop).
    const caught = () =>
      BigInt(`0x${/SigCgt:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${first}/status`, "utf8"))?.[1]}`);
    const termIntHup = (1n << 14n) | (1n << 1n) | 1n;
    await waitFor(() => (caught() & termIntHup) === termIntHup, 10_000, "the guardian's signal handlers");
    for (const sig of ["SIGINT", "SIGHUP", "SIGTERM"] as const) process.kill(first as number, sig);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(isAlive(first as number)).toBe(true);

    await stopGuardian();

    expect(isAlive(first as number)).toBe(false);
    expect(existsSync(join(wt.dir, "a"))).toBe(false);
    const third = ensureGuardian(join(wt.dir, "a"));
    expect(third).not.toBe(first);
  });
});
