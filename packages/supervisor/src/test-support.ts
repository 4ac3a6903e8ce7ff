// Helpers for the supervisor's tests (not exported from the package).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach } from "vitest";
import { readProc } from "./proc";

/** Absolute path of a fixture program in packages/supervisor/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** A fresh worktree-like temp dir with a pid file; `cleanup()` removes it. */
export function makeWorktree() {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "fh-sup-")));
  const pidFile = join(dir, "pids.txt");
  return { dir, pidFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Pids the fixtures appended to the pid file. */
export function readPids(pidFile: string): number[] {
  try {
    return readFileSync(pidFile, "utf8").trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * One worktree per test: after each, kills what the fixtures recorded and swaps a fresh one into the
 * same object (so callers keep one `const`); removed after the last test.
 */
export function worktreePerTest() {
  const wt = makeWorktree();
  afterEach(() => {
    killAll(readPids(wt.pidFile));
    wt.cleanup();
    Object.assign(wt, makeWorktree());
  });
  afterAll(() => wt.cleanup());
  return wt;
}

/** `kill -0` succeeds and the process is not a zombie (here, init does not reap orphans: zombies pile up dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const state = readProc(pid)?.state;
  return state !== undefined && state !== "Z" && state !== "X";
}

/** Resolves once `predicate` holds; rejects after `timeoutMs` (bounded poll, never a fixed sleep). */
export async function waitFor(predicate: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`[test] timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Kills whatever a failed test left (best effort, so one failure does not leak processes into the next). */
export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}

/**
 * Starts a detached process (as if it were an agent spawned just before its supervisor died) whose cwd is `cwd`;
 * it starts a sleeper child whose cwd is "/" (found only as a descendant). Both append their pids to `pidFile`.
 */
export function startInDir(cwd: string, pidFile: string): ChildProcess {
  const script = [
    `require("node:child_process").spawn(process.execPath, [${JSON.stringify(fixture("sleeper.mjs"))}], { cwd: "/", stdio: "ignore" });`,
    `require("node:fs").appendFileSync(process.env.PID_FILE, process.pid + "\\n");`,
    "setInterval(() => {}, 1 << 30);",
  ].join("\n");
  const child = spawn(process.execPath, ["-e", script], {
    cwd,
    detached: true,
    stdio: "ignore",
    env: { ...process.env, PID_FILE: pidFile },
  });
  child.unref();
  return child;
}

/** A pid that existed and has exited: a dead supervisor. */
export function deadPid(): number {
  const pid = spawnSync(process.execPath, ["-e", ""]).pid;
  if (!pid || isAlive(pid)) throw new Error(`[test] expected a dead pid, got ${pid}`);
  return pid;
}
