import { type Logger, silentLogger } from "@forgehand/core";
import { runCommand, type SandboxOptions } from "@forgehand/supervisor";

/** Bytes of combined stdout+stderr kept for the status comment. */
export const GATE_TAIL_BYTES = 4096;

export interface RunGateOptions {
  /** @defaultValue 600000 */
  timeoutMs?: number;
  /** Added to a minimal base environment (PATH, HOME, locale, TMPDIR); forgehand's secrets are not passed on. */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Wait between SIGTERM and SIGKILL of the gate's tree. @defaultValue 2000 */
  killGraceMs?: number;
  /** Lists the gate in the pid registry while it runs (as `<runId>.gate`), so a crash leaves no orphan. */
  registry?: { dir: string; runId: string };
  /** Run the gate in this sandbox (the stage agent's: same writable dirs and allowlist). Fails closed. */
  sandbox?: SandboxOptions;
  /** The supervisor's notes on the run (sandbox, egress denied). */
  onSystemLog?: (line: string) => void;
  logger?: Logger;
}

export interface GateResult {
  ok: boolean;
  /** Null when the gate was killed by a signal. */
  exitCode: number | null;
  /** Last ~4 KB of combined output. */
  outputTail: string;
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
}

/** The gate runs repository code (`npm test`), so it gets only what a build needs from our environment. */
const BASE_ENV = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "TERM"];
const SANDBOX_OWN_ENV = ["HOME", "USER", "LOGNAME", "TMPDIR"];

/**
 * Runs a stage's gate: argv (never a shell) in the worktree, through the supervisor. A timeout or abort ends in
 * the verified kill of everything it started; whatever it leaves running in the worktree after a normal exit
 * (a background server, a setsid daemon) is killed too.
 */
export async function runGate(argv: string[], cwd: string, opts: RunGateOptions = {}): Promise<GateResult> {
  if (!argv[0]) throw new Error(`[workspace] Expected a gate command (argv), got \`${JSON.stringify(argv)}\``);
  const timeoutMs = opts.timeoutMs ?? 600_000;
  if (!(timeoutMs > 0)) throw new Error(`[workspace] Expected \`timeoutMs\` > 0, got \`${timeoutMs}\``);
  const env: Record<string, string> = {};
  // Sandboxed, HOME is the sandbox's, /tmp its own, and the runner's user name means nothing.
  const base = opts.sandbox ? BASE_ENV.filter((k) => !SANDBOX_OWN_ENV.includes(k)) : BASE_ENV;
  for (const key of base) if (process.env[key] !== undefined) env[key] = process.env[key] as string;
  Object.assign(env, opts.env);
  if (opts.sandbox) for (const key of SANDBOX_OWN_ENV) delete env[key];

  const result = await runCommand({
    argv,
    cwd,
    env,
    timeoutMs,
    signal: opts.signal,
    killGraceMs: opts.killGraceMs ?? 2_000,
    buffer: false,
    tailBytes: GATE_TAIL_BYTES,
    // The worktree is the run's alone: anything whose cwd is inside it belongs to the gate now.
    sweepDir: cwd,
    ...(opts.registry ? { registry: { dir: opts.registry.dir, runId: `${opts.registry.runId}.gate` } } : {}),
    ...(opts.sandbox ? { sandbox: opts.sandbox } : {}),
    ...(opts.onSystemLog ? { onSystemLog: opts.onSystemLog } : {}),
    logger: opts.logger ?? silentLogger,
  });

  const exitCode = result.signal ? null : result.exitCode;
  let outputTail = result.tail;
  if (result.spawnError) outputTail += `\n[workspace] ${result.spawnError.message}`; // e.g. ENOENT: gate binary missing
  if (result.timedOut) outputTail += `\n[workspace] gate timed out after ${timeoutMs} ms`;
  if (result.aborted) outputTail += "\n[workspace] gate aborted";
  const survivors = result.kill?.survivors ?? [];
  if (survivors.length > 0) {
    outputTail += `\n[workspace] gate processes survived the kill: ${survivors.map((s) => `${s.pid} ${s.command}`).join(", ")}`;
  }
  return {
    ok: exitCode === 0 && !result.timedOut && !result.aborted,
    exitCode,
    outputTail: outputTail.slice(-GATE_TAIL_BYTES),
    durationMs: result.durationMs,
    timedOut: result.timedOut,
    aborted: result.aborted,
  };
}
