import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createInterface } from "node:readline";

/** Every child the bench started and has not seen exit, killed if the bench itself is interrupted. */
const tracked = new Set<ChildProcess>();
/** Children stopped only after the others (redis-server: the servers need it to shut down cleanly). */
const trackedLast = new Set<ChildProcess>();

/** Registers a child (a bench server; `last` for a redis-server) to be killed if the bench is interrupted. */
export function track(child: ChildProcess, options: { last?: boolean } = {}): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const set = options.last ? trackedLast : tracked;
  set.add(child);
  child.once("exit", () => set.delete(child));
}

async function terminate(children: Set<ChildProcess>, boundMs: number): Promise<void> {
  const exits = [...children].map((child) => new Promise((resolve) => child.once("exit", resolve)));
  for (const child of children) child.kill("SIGTERM");
  await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, boundMs))]);
}

/** Temporary directories of running figures, removed if the bench is interrupted. */
const trackedDirs = new Set<string>();

/** Registers a temporary directory for removal on interrupt; returns the function that unregisters it. */
export function trackDir(dir: string): () => void {
  trackedDirs.add(dir);
  return () => trackedDirs.delete(dir);
}

/**
 * On SIGINT/SIGTERM: SIGTERM every tracked child (servers stop their agents with a verified kill),
 * wait up to 10 s for them, then stop the redis-servers, remove the figures' temporary directories and exit.
 */
export function killTrackedOnSignal(): void {
  const onSignal = async (signal: NodeJS.Signals) => {
    await terminate(tracked, 10_000);
    await terminate(trackedLast, 5_000);
    for (const dir of trackedDirs) rmSync(dir, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}

/** A child process (a TypeScript entry run through tsx) that reports readiness as one JSON line on stdout. */
export interface BenchChild<T> {
  child: ChildProcess;
  /** The first JSON line the child printed. */
  ready: T;
  /** Further JSON lines, in order (for children that report results). */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends a line to the child's stdin. */
  send(message: Record<string, unknown>): void;
  /** SIGTERM, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `node --import tsx <script> ...args` with argv (never a shell) and waits for its first
 * JSON line. A line `{"error": "..."}` rejects with that text.
 */
export async function startChild<T>(
  script: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; readyTimeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<BenchChild<T>> {
  // `npm run bench -- --profile` sets BENCH_CPU_PROF_DIR: every child writes a V8 CPU profile on exit.
  const prof = process.env.BENCH_CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const nodeArgs = [...prof, ...(options.nodeArgs ?? [])];
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", script, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  track(child);
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const queue: Record<string, unknown>[] = [];
  const waiters: ((line: Record<string, unknown>) => void)[] = [];
  const lines = createInterface({ input: child.stdout! });
  lines.on("line", (line) => {
    if (!line.startsWith("{")) return;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line);
    } catch {
      return;
    }
    const waiter = waiters.shift();
    if (waiter) waiter(parsed);
    else queue.push(parsed);
  });
  // "close", not "exit": a child that prints its last line and exits at once can emit "exit" before that
  // line is read from its stdout, and a waiting next() would then reject a result that was on its way.
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const next = (timeoutMs = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const queued = queue.shift();
      if (queued) return resolve(queued);
      const timer = setTimeout(
        () => reject(new Error(`[bench] ${script} sent nothing within ${timeoutMs} ms; stderr:\n${stderr}`)),
        timeoutMs,
      );
      const onExit = () => {
        clearTimeout(timer);
        reject(new Error(`[bench] ${script} exited (code ${child.exitCode}); stderr:\n${stderr}`));
      };
      exited.then(onExit);
      waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const stop = async (graceMs = 5_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  let ready: Record<string, unknown>;
  try {
    ready = await next(options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await stop(1_000);
    throw error;
  }
  if (typeof ready.error === "string") {
    await stop(1_000);
    throw new Error(`[bench] ${script}: ${ready.error}`);
  }
  return {
    child,
    ready: ready as T,
    next,
    send: (message) => child.stdin?.write(`${JSON.stringify(message)}\n`),
    stop,
  };
}

/** For child entry points: print one JSON line on stdout for the parent. */
export function report(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/**
 * For child entry points: runs `cleanup` and exits when the parent goes away (its end of our stdin
 * closes), so a bench killed half-way leaves no server or agent behind.
 */
export function onParentGone(cleanup: () => Promise<void> | void): void {
  const leave = async () => {
    try {
      await cleanup();
    } finally {
      process.exit(0);
    }
  };
  process.stdin.on("end", leave);
  process.stdin.on("error", leave);
  process.stdin.resume();
}
