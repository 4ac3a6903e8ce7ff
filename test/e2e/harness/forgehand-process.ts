import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "../../helpers/wait-for";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const BIN = join(ROOT, "apps/cli/bin/forgehand.mjs");

/** A `forgehand <command>` child process with its output captured to a file. */
export interface ForgehandProcess {
  child: ChildProcess;
  url: string;
  logFile: string;
  /** Everything it printed so far (stdout and stderr). */
  log(): string;
  /** SIGTERM, then SIGKILL to its process group after `graceMs`; resolves with the exit code or signal. */
  stop(graceMs?: number): Promise<number | string | null>;
}

/** Options for {@link startForgehand}. */
export interface StartForgehandOptions {
  args: string[];
  env: Record<string, string>;
  port: number;
  cwd: string;
  logFile: string;
  /** Wait for GET /healthz and this log line (the process is wired, Redis connected); @defaultValue "forgehand is up" */
  readyLine?: string;
  /** Wait for health at all; @defaultValue true */
  waitHealthy?: boolean;
}

/** Spawns `node apps/cli/bin/forgehand.mjs …args` as a real process in its own process group. */
export async function startForgehand(options: StartForgehandOptions): Promise<ForgehandProcess> {
  const out = createWriteStream(options.logFile);
  const child = spawn(process.execPath, [BIN, ...options.args], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  const exited = new Promise<number | string | null>((resolvePromise) =>
    child.once("exit", (code, signal) => resolvePromise(code ?? signal)),
  );
  const url = `http://127.0.0.1:${options.port}`;
  const log = () => readFileSync(options.logFile, "utf8");
  const handle: ForgehandProcess = {
    child,
    url,
    logFile: options.logFile,
    log,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => killGroup(child.pid), graceMs);
        const result = await exited;
        clearTimeout(timer);
        killGroup(child.pid);
        out.end();
        return result;
      }
      killGroup(child.pid);
      out.end();
      return child.exitCode ?? child.signalCode;
    },
  };
  if (options.waitHealthy ?? true) {
    let early: number | string | null | undefined;
    void exited.then((code) => {
      early = code;
    });
    await waitFor(
      `forgehand ${options.args[0]} to answer /healthz`,
      async () => {
        if (early !== undefined) throw new Error(`[e2e] forgehand exited early (${early}):\n${log().slice(-3000)}`);
        if (!log().includes(options.readyLine ?? "forgehand is up")) return false;
        return (await fetch(`${url}/healthz`)).ok;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    ).catch(async (error) => {
      await handle.stop(1_000);
      throw error;
    });
  }
  return handle;
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
