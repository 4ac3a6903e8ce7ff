import { setTimeout as sleep } from "node:timers/promises";
import { readCommand } from "./proc";
import { createSandbox, type Sandbox, SandboxSetupError, type SandboxSpec } from "./sandbox/create-sandbox";
import { signalSandbox } from "./sandbox/sandbox-process";
import type { SandboxOptions } from "./sandbox-options";
import type { KillReport, SandboxReport } from "./types";

export type { SandboxOptions };

/** A prepared sandbox around one process: spawn `argv` with `spawnEnv`, stop with `stop`, end with `close`. */
export interface OpenSandbox {
  readonly sandbox: Sandbox;
  readonly argv: string[];
  readonly spawnEnv: Record<string, string>;
  /**
   * The sandbox's own stop, before the caller's group/descendant/cwd scan: SIGTERM to the init (it forwards to
   * the agent) → up to `graceMs` → `cgroup.kill` (verified: cgroup.procs empty) or SIGKILL of bwrap (its pid
   * namespace dies with it). With nothing running any more, only the cgroup check is left. Returns what is
   * still in the cgroup after the kill (survivors).
   */
  stop(pid: number, graceMs: number, exited: Promise<unknown>): Promise<KillReport["survivors"]>;
  /** Cleanup (always; never throws) and the run's one summary line (chown cost). */
  close(): Promise<void>;
}

export interface OpenSandboxOptions {
  sandbox: SandboxOptions;
  cwd: string;
  command: string[];
  env: Record<string, string>;
  files?: SandboxSpec["files"];
  /** One run-log line (`system`). */
  log: (line: string) => void;
}

/**
 * Creates and prepares the sandbox. Fails closed: any setup error comes back as `{ error }` (the run must fail
 * with it and spawn nothing); nothing is left behind then.
 */
export async function openSandbox(options: OpenSandboxOptions): Promise<OpenSandbox | { error: string }> {
  const { log } = options;
  let sandbox: Sandbox;
  try {
    sandbox = createSandbox({
      ...options.sandbox,
      worktree: options.cwd,
      command: options.command,
      env: options.env,
      files: options.files,
      onDenied: (d) => log(`egress denied ${d.host}:${d.port} (${d.reason})`),
    });
    await sandbox.prepare();
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    return { error: `[sandbox] cannot start the sandbox, nothing was run: ${message.replace(/^\[sandbox\] /, "")}` };
  }
  if (sandbox.cgroupUnavailable) {
    log(`sandbox: no per-run cgroup (${sandbox.cgroupUnavailable}); the kill relies on the pid namespace and the scan`);
  }
  const limits = sandbox.cgroup?.limits ?? {};
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value === "string") log(`sandbox: ${name} not applied: ${value}`);
  }
  const argv = sandbox.argv;
  let closed = false;
  return {
    sandbox,
    argv,
    spawnEnv: sandbox.spawnEnv,
    async stop(pid, graceMs, exited) {
      let gone = false;
      void exited.then(() => {
        gone = true;
      });
      await Promise.resolve();
      if (!gone && signalSandbox(pid, "SIGTERM")) await Promise.race([exited, sleep(graceMs)]);
      const cgroup = sandbox.cgroup;
      if (!gone && !cgroup) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      if (!cgroup) return [];
      const r = await cgroup.kill().catch(() => ({ empty: false, remaining: [] as number[] }));
      return r.empty ? [] : r.remaining.map((p) => ({ pid: p, command: `in run cgroup: ${readCommand(p)}` }));
    },
    async close() {
      if (closed) return;
      closed = true;
      await sandbox.cleanup().catch((error: unknown) => log(`sandbox: cleanup failed: ${String(error)}`));
      const c = sandbox.worktreeChown;
      if (c) {
        log(
          `sandbox: worktree chown to uid ${sandbox.identity.uid}: ${c.ms} ms (${c.entries} entries), ` +
            `back: ${c.backMs ?? "?"} ms (${c.backEntries ?? "?"} entries)`,
        );
      }
    },
  };
}

export { SandboxSetupError };

/** What an outcome reports of the sandbox a process ran in (agent and command alike). */
export function sandboxReport(sandbox: Sandbox): SandboxReport {
  return {
    deniedConnections: sandbox.deniedCount,
    uid: sandbox.identity.uid,
    ...(sandbox.cgroup ? { cgroup: sandbox.cgroup.path } : {}),
    ...(sandbox.cgroupUnavailable ? { cgroupUnavailable: sandbox.cgroupUnavailable } : {}),
  };
}
