import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "@forgehand/queue";

/** A `git daemon` serving (and accepting pushes to) the repositories under one directory. */
export interface GitDaemon {
  /** `git://127.0.0.1:<port>/<name>` for a repository directory under the base path. */
  url(name: string): string;
  /** Stops serving; resolves once the port refuses connections. */
  stop(): Promise<void>;
  /** Serves again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  readonly pid: number | undefined;
}

/** True when something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function waitUntil(port: number, up: boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await accepts(port)) !== up) {
    if (Date.now() > deadline) throw new Error(`[git-daemon] port ${port} did not ${what} within 10 s`);
    await sleep(20);
  }
}

/** Starts `git daemon` on a free port: a real network origin a test can take away and bring back. */
export async function startGitDaemon(basePath: string): Promise<GitDaemon> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const daemon: GitDaemon = {
    url: (name) => `git://127.0.0.1:${port}/${name}`,
    get pid() {
      return child?.pid;
    },
    async start() {
      child = spawn(
        "git",
        [
          "daemon",
          "--reuseaddr",
          "--export-all",
          "--enable=receive-pack",
          `--base-path=${basePath}`,
          "--listen=127.0.0.1",
          `--port=${port}`,
          basePath,
        ],
        { stdio: "ignore" },
      );
      await waitUntil(port, true, "open");
    },
    async stop() {
      const running = child;
      child = undefined;
      if (running && running.exitCode === null && running.signalCode === null) {
        const exited = new Promise((resolve) => running.once("exit", resolve));
        running.kill("SIGTERM");
        await exited;
      }
      await waitUntil(port, false, "close");
    },
  };
  await daemon.start();
  return daemon;
}
