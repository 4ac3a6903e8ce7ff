import { type ChildProcess, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Logger, silentLogger } from "@forgehand/core";
import { GUARDIAN_SCRIPT } from "./guardian-script";
import { defaultSweepRoot } from "./pid-registry";
import { isSameRunning, readProc } from "./proc";

interface Guardian {
  child: ChildProcess;
  pid: number;
  startTime?: number;
}

let guardian: Guardian | undefined;
/** Registry directories this process has registered agents in (→ sweep root); a respawned guardian gets all. */
const watched = new Map<string, string>();

/**
 * Makes sure this process has a guardian watching `registryDir` and returns the guardian's pid (undefined when it
 * could not be started; `reapOrphans` at the next start on the data dir remains the fallback). One guardian per
 * process serves every registry directory; it is respawned if it died. The guardian kills this process's
 * registered agents as soon as this process dies by any means, SIGKILL included, so no agent outlives its runner.
 * It sweeps cwds only strictly inside `options.sweepRoot` (default `defaultSweepRoot(registryDir)`).
 */
export function ensureGuardian(
  registryDir: string,
  logger: Logger = silentLogger,
  options: { sweepRoot?: string } = {},
): number | undefined {
  const dir = resolve(registryDir);
  const sweepRoot = resolve(options.sweepRoot ?? defaultSweepRoot(dir));
  const fresh = !guardian || !isLive(guardian);
  if (fresh) {
    guardian = spawnGuardian(logger);
    if (!guardian) return undefined;
  }
  const current = guardian as Guardian;
  if (fresh || watched.get(dir) !== sweepRoot) {
    watched.set(dir, sweepRoot);
    // Written before the agent's registry entry exists: data in the pipe outlives our death, so the guardian
    // learns of the directory even if we are SIGKILLed right after.
    const lines = fresh ? [...watched] : [[dir, sweepRoot] as const];
    current.child.stdin?.write(lines.map(([d, root]) => `${JSON.stringify({ watch: d, sweepRoot: root })}\n`).join(""));
  }
  return current.pid;
}

/**
 * Ends this process's guardian without it killing anything (for tests and embedders that supervise no more runs);
 * resolves once it is gone (SIGKILL after `timeoutMs`). The next `supervise` with a registry starts a new one.
 */
export async function stopGuardian(timeoutMs = 2000): Promise<void> {
  const current = guardian;
  guardian = undefined;
  watched.clear();
  if (!current) return;
  current.child.stdin?.end(`${JSON.stringify({ stop: true })}\n`);
  const end = performance.now() + timeoutMs;
  while (isLive(current) && performance.now() < end) await sleep(10);
  if (isLive(current)) current.child.kill("SIGKILL");
}

function spawnGuardian(logger: Logger): Guardian | undefined {
  const supervisorStartTime = readProc(process.pid)?.startTime;
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ["-e", GUARDIAN_SCRIPT, String(process.pid), String(supervisorStartTime ?? "")], {
      // Own session: a terminal's Ctrl-C or hangup reaches the runner's group, never the guardian.
      detached: true,
      // Never holds a worktree busy, and is never inside one (it would be swept as part of a run).
      cwd: "/",
      stdio: ["pipe", "ignore", "ignore"],
      // Nothing of the runner's environment (tokens, NODE_OPTIONS loaders) is needed.
      env: pickEnv(["PATH", "LD_LIBRARY_PATH", "TZ"]),
    });
  } catch (error) {
    logger.warn("could not start the agent guardian; orphans are reaped only at the next start", { error });
    return undefined;
  }
  child.on("error", (error) => logger.warn("agent guardian failed", { error }));
  // EPIPE if the guardian died: it is respawned at the next ensureGuardian.
  child.stdin?.on("error", () => {});
  // Neither the process nor its pipe may keep the runner alive.
  child.unref();
  (child.stdin as Socket | null)?.unref();
  if (child.pid === undefined) return undefined;
  return { child, pid: child.pid, startTime: readProc(child.pid)?.startTime };
}

function isLive(g: Guardian): boolean {
  return g.child.exitCode === null && g.child.signalCode === null && isSameRunning(g.pid, g.startTime);
}

function pickEnv(names: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
