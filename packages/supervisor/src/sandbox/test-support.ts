// Helpers for the sandbox tests (not exported from the package).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { scanProcesses } from "../proc";
import { findBwrap, type Sandbox } from "./create-sandbox";

/**
 * The bwrap to test with. Missing: the suite is skipped with a message, except under CI=true, where a missing
 * bwrap fails (the sandbox is a security boundary; CI must exercise it).
 */
export function bwrapForTests(): string | undefined {
  const bwrap = findBwrap();
  if (!bwrap) {
    if (process.env.CI === "true") {
      throw new Error("[test] bwrap is missing under CI=true: install bubblewrap (node scripts/prereqs.mjs)");
    }
    console.warn("[test] SKIPPING sandbox tests: bwrap is not installed (apt-get install bubblewrap)");
  }
  return bwrap;
}

export const isRoot = process.getuid?.() === 0;

export interface SandboxRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns `sandbox.argv` the way the supervisor will (spawnEnv, own group) and collects its output. */
export function runSandboxed(
  sandbox: Sandbox,
  options: { uid?: number; gid?: number; onSpawn?: (pid: number) => void; timeoutMs?: number } = {},
): Promise<SandboxRun> {
  const [cmd, ...args] = sandbox.argv;
  const child = spawn(cmd!, args, {
    env: sandbox.spawnEnv,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    uid: options.uid,
    gid: options.gid,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  if (child.pid) options.onSpawn?.(child.pid);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Every descendant of `pid` (by ppid), nearest first. */
export function descendants(pid: number): number[] {
  const procs = scanProcesses();
  const out: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = procs.filter((p) => frontier.includes(p.ppid)).map((p) => p.pid);
    out.push(...next);
    frontier = next;
  }
  return out;
}

/** Real, effective uid of a host process, from /proc/<pid>/status. */
export function hostUid(pid: number): { real: number; effective: number } | undefined {
  try {
    const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? { real: Number(m[1]), effective: Number(m[2]) } : undefined;
  } catch {
    return undefined;
  }
}
