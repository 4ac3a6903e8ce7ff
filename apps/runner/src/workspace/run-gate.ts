import { execa } from "execa";
import pidtree from "pidtree";

/** Bytes of combined stdout+stderr kept for the status comment. */
export const GATE_TAIL_BYTES = 4096;

export interface RunGateOptions {
  /** @defaultValue 600000 */
  timeoutMs?: number;
  /** Added to a minimal base environment (PATH, HOME, locale, TMPDIR); forgehand's secrets are not passed on. */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Wait between SIGTERM and SIGKILL of the process group. @defaultValue 2000 */
  killGraceMs?: number;
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

/**
 * Runs a stage's gate: argv (never a shell) in the worktree, in its own process group so a timeout or abort
 * kills everything it started, including background processes left behind after it exits.
 */
export async function runGate(argv: string[], cwd: string, opts: RunGateOptions = {}): Promise<GateResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error(`[workspace] Expected a gate command (argv), got \`${JSON.stringify(argv)}\``);
  const timeoutMs = opts.timeoutMs ?? 600_000;
  if (!(timeoutMs > 0)) throw new Error(`[workspace] Expected \`timeoutMs\` > 0, got \`${timeoutMs}\``);
  const started = performance.now();
  const env: Record<string, string> = {};
  for (const key of BASE_ENV) if (process.env[key] !== undefined) env[key] = process.env[key] as string;
  Object.assign(env, opts.env);

  const tail = createTail(GATE_TAIL_BYTES);
  const child = execa(file, args, {
    cwd,
    env,
    extendEnv: false,
    detached: true,
    stdin: "ignore",
    buffer: false,
    reject: false,
  });
  child.stdout?.on("data", tail.push);
  child.stderr?.on("data", tail.push);

  let reason: "timeout" | "abort" | undefined;
  const stop = (why: "timeout" | "abort") => {
    reason ??= why;
    void killGroup(child.pid, opts.killGraceMs ?? 2_000);
  };
  const timer = setTimeout(() => stop("timeout"), timeoutMs);
  const onAbort = () => stop("abort");
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  // When the gate's own process exits, anything it left running in its group would hold the pipes open
  // (and outlive the run inside the worktree): kill the rest of the group at once.
  child.once("exit", () => {
    if (child.pid) signalGroup(child.pid, "SIGKILL");
    // A descendant that escaped the group (setsid) may still hold our pipes: stop waiting for it.
    setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, 1_000).unref();
  });
  const result = await child;
  clearTimeout(timer);
  opts.signal?.removeEventListener("abort", onAbort);

  const exitCode = typeof result.exitCode === "number" && !result.signal ? result.exitCode : null;
  let outputTail = tail.text();
  if (result.failed && exitCode === null && !result.signal && result.message) {
    outputTail += `\n[workspace] ${result.shortMessage ?? result.message}`; // e.g. ENOENT: gate binary missing
  }
  if (reason === "timeout") outputTail += `\n[workspace] gate timed out after ${timeoutMs} ms`;
  if (reason === "abort") outputTail += "\n[workspace] gate aborted";
  return {
    ok: exitCode === 0 && !reason,
    exitCode,
    outputTail: outputTail.slice(-GATE_TAIL_BYTES),
    durationMs: Math.round(performance.now() - started),
    timedOut: reason === "timeout",
    aborted: reason === "abort",
  };
}

/** SIGTERM the group (and descendants that left it), SIGKILL whatever is left after `graceMs`. */
async function killGroup(pid: number | undefined, graceMs: number): Promise<void> {
  if (!pid) return;
  // Collect descendants first: once the leader dies, escaped ones (setsid) are re-parented and lost to us.
  const descendants = await pidtree(pid).catch(() => [] as number[]);
  signalGroup(pid, "SIGTERM");
  for (const p of descendants) signalPid(p, "SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, graceMs));
  signalGroup(pid, "SIGKILL");
  for (const p of descendants) signalPid(p, "SIGKILL");
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  signalPid(-pid, signal);
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone, which is what we want.
  }
}

function createTail(limit: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk: Buffer | string) {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      chunks.push(buf);
      size += buf.length;
      while (chunks.length > 1 && size - (chunks[0]?.length ?? 0) >= limit) size -= chunks.shift()?.length ?? 0;
    },
    text(): string {
      const all = Buffer.concat(chunks);
      return all.subarray(Math.max(0, all.length - limit)).toString("utf8");
    },
  };
}
