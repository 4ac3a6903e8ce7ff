import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { NotMeasuredError } from "./figure";

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
 * JSON line. A line `{"notMeasured": "..."}` or `{"error": "..."}` rejects with that text.
 */
export async function startChild<T>(
  script: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; readyTimeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<BenchChild<T>> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", script, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
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
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
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
  if (typeof ready.notMeasured === "string" || typeof ready.error === "string") {
    await stop(1_000);
    if (typeof ready.notMeasured === "string") throw new NotMeasuredError(ready.notMeasured);
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
