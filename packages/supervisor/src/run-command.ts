import type { Readable } from "node:stream";
import { type Logger, silentLogger } from "@forgehand/core";
import { createKillOnce } from "./kill-once";
import { type OpenSandbox, openSandbox, type SandboxOptions, SandboxSetupError, sandboxReport } from "./open-sandbox";
import { createOutputTail } from "./output-tail";
import { pidEntryPath } from "./pid-registry";
import { type RunRegistration, registerRun } from "./run-registration";
import { type ExitStatus, groupHasMembers, spawnGroup } from "./spawn-group";
import type { KillReport, SandboxReport } from "./types";
import { withTimeout } from "./with-timeout";

/** How long (ms) to wait for the pipes to close once the command's processes are gone. */
const PIPE_CLOSE_BOUND_MS = 1000;

/** A non-agent command (a gate, git): no parser, no meter, no watchdog; the same spawn, kill and registry. */
export interface RunCommandOptions {
  /** argv; never a shell string. */
  argv: string[];
  cwd: string;
  /** The complete environment of the command (nothing is inherited). */
  env: Record<string, string>;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** Kill the command's tree (verified) after this long (ms). Unset: no limit. */
  timeoutMs?: number;
  /** Same verified kill as a timeout; the result says `aborted`. An already-aborted signal spawns nothing. */
  signal?: AbortSignal;
  /** SIGTERM → wait this long (ms) → SIGKILL. @defaultValue 2000 */
  killGraceMs?: number;
  /**
   * Keep stdout and stderr in `stdout`/`stderr`. Off for commands whose output only matters as a tail
   * (a test suite). @defaultValue true
   */
  buffer?: boolean;
  /** At most this many bytes are kept per stream; more sets `truncated`. @defaultValue 67108864 (64 MiB) */
  maxBufferBytes?: number;
  /** Bytes of combined output (as it arrived) kept in `tail`. @defaultValue 4096 */
  tailBytes?: number;
  /**
   * Where anything the command leaves behind lives: a kill also takes every process whose cwd is inside it
   * (setsid escapees), and a normal exit is swept the same way. Only for a directory the command owns alone
   * (a worktree), never a shared one (a mirror other runs use). Unset: on a normal exit, only a non-empty
   * process group costs a kill (one kill(2) to find out, no /proc scan).
   */
  sweepDir?: string;
  /** Register the command in the pid registry (guardian + orphan reaping) while it runs. */
  registry?: { dir: string; runId: string };
  /**
   * Run the command inside a bubblewrap sandbox (`cwd` is its writable worktree; see `SuperviseOptions.sandbox`).
   * Fails closed: a sandbox that cannot be set up is a `spawnError` and nothing runs.
   */
  sandbox?: SandboxOptions;
  /** The supervisor's own notes on the run (sandbox: cgroup, egress denied, chown cost). */
  onSystemLog?: (line: string) => void;
  logger?: Logger;
}

/** What `runCommand` resolves with: only after the command's processes are gone (or named as survivors). */
export interface CommandResult {
  /** Null when killed by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  /** Empty unless `buffer`; a final newline is kept. */
  stdout: string;
  stderr: string;
  /** Whether `stdout` or `stderr` hit `maxBufferBytes` (the command still ran to its end). */
  truncated: boolean;
  /** The last `tailBytes` of stdout and stderr interleaved. */
  tail: string;
  timedOut: boolean;
  aborted: boolean;
  /** Why the command never ran (ENOENT, a bad cwd). */
  spawnError?: Error;
  /** Present when a kill ran (timeout, abort, leftovers, `sweepDir`); `survivors` are named there. */
  kill?: KillReport;
  /** Present when the command was sandboxed. */
  sandbox?: SandboxReport;
  durationMs: number;
}

/**
 * Runs a command the way `supervise` runs an agent, minus the agent: its own process group, an exact env, and
 * on a timeout or abort the verified kill of its whole tree (group, descendants, `sweepDir`). Throws only a
 * `[supervisor]` TypeError for bad options or a `PidRegistryError`; a failing command is a result.
 */
export async function runCommand(options: RunCommandOptions): Promise<CommandResult> {
  validate(options);
  if (!options.sandbox || options.signal?.aborted) return runPlain(options, undefined);
  const log = (line: string) => {
    try {
      options.onSystemLog?.(line);
    } catch {}
  };
  const opened = await openSandbox({
    sandbox: options.sandbox,
    cwd: options.cwd,
    command: options.argv,
    env: options.env,
    log,
  });
  if ("error" in opened) {
    const error = new SandboxSetupError(opened.error);
    return { ...emptyResult(), spawnError: error, tail: opened.error };
  }
  try {
    const result = await runPlain(options, opened);
    await opened.close();
    return {
      ...result,
      sandbox: sandboxReport(opened.sandbox),
    };
  } finally {
    await opened.close();
  }
}

function emptyResult(): CommandResult {
  const base = { exitCode: null, signal: null, stdout: "", stderr: "", truncated: false, tail: "" };
  return { ...base, timedOut: false, aborted: false, durationMs: 0 };
}

async function runPlain(options: RunCommandOptions, box: OpenSandbox | undefined): Promise<CommandResult> {
  const started = performance.now();
  const logger = options.logger ?? silentLogger;
  const tail = createOutputTail(options.tailBytes ?? 4096);
  const out = createCapture(options.buffer ?? true, options.maxBufferBytes ?? 64 * 1024 * 1024);
  const err = createCapture(options.buffer ?? true, options.maxBufferBytes ?? 64 * 1024 * 1024);
  const result = (patch: Partial<CommandResult>): CommandResult => ({
    exitCode: null,
    signal: null,
    stdout: out.text(),
    stderr: err.text(),
    truncated: out.truncated || err.truncated,
    tail: tail.text(),
    timedOut: false,
    aborted: false,
    ...patch,
    durationMs: Math.round(performance.now() - started),
  });
  if (options.signal?.aborted) return result({ aborted: true });

  let registration: RunRegistration | undefined;
  if (options.registry) {
    const runCgroup = box?.sandbox.cgroup?.path;
    registration = await registerRun(
      options.registry.dir,
      options.registry.runId,
      options.cwd,
      logger,
      runCgroup ? { runCgroup } : {},
    );
  }
  const spawned = spawnGroup(box ? box.argv : options.argv, {
    cwd: options.cwd,
    env: box ? box.spawnEnv : options.env,
    input: options.input,
  });
  const { child, pid, startTime } = spawned;
  if (pid === undefined) {
    const { error } = await spawned.exited;
    await registration?.remove();
    return result({ spawnError: error });
  }
  const pipes = [collect(child.stdout, out.push, tail.push), collect(child.stderr, err.push, tail.push)];
  const killer = createKillOnce(
    { pid, pgid: pid, startTime, ...(options.sweepDir ? { cwdInside: options.sweepDir } : {}) },
    {
      graceMs: options.killGraceMs ?? 2000,
      logger,
      ...(box ? { before: () => box.stop(pid, options.killGraceMs ?? 2000, spawned.exited) } : {}),
    },
  );
  let stopped: "timeout" | "abort" | undefined;
  const stop = (why: "timeout" | "abort") => {
    stopped ??= why;
    void killer.kill();
  };
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(stop, options.timeoutMs, "timeout");
  const onAbort = () => stop("abort");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (registration) {
    // The pending entry stays on failure: the command is still found by its cwd if this process dies.
    await registration.recordSpawn(pid, startTime).catch(() => {});
  }

  // A root that survives SIGKILL never exits: then the kill's end is the command's end.
  let exit: ExitStatus | undefined = await Promise.race([spawned.exited, killer.done.then(() => undefined)]);
  clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  // Leftovers (a background child in the group, or anything in `sweepDir`) would outlive the command.
  // A sandbox is always swept: its cgroup must be verified empty.
  const sweep = killer.started || options.sweepDir !== undefined || box !== undefined || groupHasMembers(pid);
  const kill = sweep ? await killer.kill() : undefined;
  exit ??= await withTimeout(spawned.exited, PIPE_CLOSE_BOUND_MS);
  await Promise.all(pipes.map((finish) => finish(PIPE_CLOSE_BOUND_MS)));
  if (!kill || kill.survivors.length === 0) await registration?.remove();
  return result({
    exitCode: exit?.code ?? null,
    signal: exit?.signal ?? null,
    timedOut: stopped === "timeout",
    aborted: stopped === "abort",
    ...(kill ? { kill } : {}),
  });
}

/** One stream's bytes, kept up to `maxBytes` (then only counted as `truncated`). */
function createCapture(enabled: boolean, maxBytes: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  return {
    push(chunk: Buffer) {
      if (!enabled) return;
      const room = maxBytes - size;
      if (chunk.length > room) truncated = true;
      if (room <= 0) return;
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(kept);
      size += kept.length;
    },
    text: () => Buffer.concat(chunks).toString("utf8"),
    get truncated() {
      return truncated;
    },
  };
}

/** Feeds a pipe to `onChunk`s; the returned `finish` waits for it to close, at most `boundMs`, then destroys it. */
function collect(stream: Readable | null, ...onChunk: ((chunk: Buffer) => void)[]) {
  if (!stream) return async (_boundMs: number) => {};
  const closed = new Promise<void>((resolve) => {
    stream.once("close", resolve);
    stream.once("error", () => resolve());
  });
  stream.on("data", (chunk: Buffer) => {
    for (const fn of onChunk) fn(chunk);
  });
  return async function finishPipe(boundMs: number) {
    // A process outside the command's reach (setsid, another cwd) may still hold the pipe: don't wait forever.
    await withTimeout(closed, boundMs);
    if (!stream.destroyed) stream.destroy();
  };
}

function validate(options: RunCommandOptions): void {
  const { argv } = options;
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((arg) => typeof arg !== "string") || argv[0] === "") {
    throw new TypeError(`[supervisor] Expected \`argv\` to be a non-empty argv array, got \`${JSON.stringify(argv)}\``);
  }
  if (typeof options.cwd !== "string" || options.cwd === "") {
    throw new TypeError(`[supervisor] Expected \`cwd\` to be a directory path, got \`${options.cwd}\``);
  }
  for (const key of ["timeoutMs", "killGraceMs", "maxBufferBytes", "tailBytes"] as const) {
    const value = options[key];
    if (value !== undefined && !(typeof value === "number" && Number.isFinite(value) && value >= 0)) {
      throw new TypeError(`[supervisor] Expected \`${key}\` >= 0, got \`${String(value)}\``);
    }
  }
  // The run id names the registry file: check it before anything is spawned.
  if (options.registry) pidEntryPath(options.registry.dir, options.registry.runId);
}
