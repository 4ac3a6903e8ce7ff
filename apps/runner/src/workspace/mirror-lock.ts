import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

/** Tail of the in-process queue per lock path; a new caller waits for the previous one. */
const queues = new Map<string, Promise<void>>();

/**
 * Runs `fn` holding the lock at `lockPath`: first an in-process queue (cheap, FIFO), then an exclusive
 * `flock(1)` on the file so other processes sharing the data dir wait too. The kernel drops a flock when
 * its holder dies, so a crashed runner never leaves a stale lock behind.
 * @param timeoutMs how long to wait for another process's lock. @defaultValue 600000
 */
export async function withMirrorLock<T>(lockPath: string, fn: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
  const previous = queues.get(lockPath) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  const tail = previous.then(() => mine);
  queues.set(lockPath, tail);
  await previous;
  try {
    const release = await acquireFileLock(lockPath, timeoutMs);
    try {
      return await fn();
    } finally {
      await release();
    }
  } finally {
    done();
    if (queues.get(lockPath) === tail) queues.delete(lockPath);
  }
}

/**
 * Holds the flock through a `flock FILE cat` child: `cat` starts only once the lock is held, so its echo of
 * our first byte means "acquired"; closing its stdin ends `cat` and releases the lock. If this process dies,
 * the pipe closes and the lock goes with it.
 */
async function acquireFileLock(lockPath: string, timeoutMs: number): Promise<() => Promise<void>> {
  await mkdir(dirname(lockPath), { recursive: true });
  const waitSeconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  const child = spawn("flock", ["--exclusive", "--wait", waitSeconds, lockPath, "cat"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("close", (code) => resolve(code));
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const acquired = await new Promise<boolean>((resolve, reject) => {
    child.once("error", (error) =>
      reject(new Error(`[workspace] Cannot run \`flock\` (util-linux) for lock \`${lockPath}\``, { cause: error })),
    );
    child.stdout.once("data", () => resolve(true));
    void exited.then(() => resolve(false));
    child.stdin.write("\n");
  });
  if (!acquired) {
    const code = await exited;
    throw new Error(
      `[workspace] Could not lock \`${lockPath}\` within ${timeoutMs} ms (flock exit ${code}): ${stderr.trim() || "timed out"}`,
    );
  }
  return async function releaseFileLock() {
    child.stdin.end();
    await exited;
  };
}
