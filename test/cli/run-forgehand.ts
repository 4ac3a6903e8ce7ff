import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The CLI's TypeScript entry, run through tsx so tests never see a stale dist/ bundle. */
export const CLI_MAIN = join(root, "apps", "cli", "src", "main.ts");
const TSX = pathToFileURL(join(root, "node_modules", "tsx", "dist", "loader.mjs")).href;

/** Environment without anything forgehand reads, so the developer's shell cannot leak into a test. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^(REDIS_URL|PORT|FORGEHAND_|GITHUB_|GITEA_|LOG_LEVEL|ANTHROPIC_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, LOG_LEVEL: "info", ...extra };
}

/** A fresh working directory (no forgehand.yml in it unless the test writes one). */
export function tempDir(name = "cli"): string {
  return mkdtempSync(join(tmpdir(), `forgehand-${name}-`));
}

/** Spawns `forgehand …` as a real process. */
export function spawnForgehand(args: string[], options: { env: Record<string, string>; cwd: string }): ChildProcess {
  return spawn(process.execPath, ["--import", TSX, CLI_MAIN, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs `forgehand …` to completion (killed after `timeoutMs`) and collects its output. */
export function runForgehand(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawnForgehand(args, { env: options.env ?? cleanEnv(), cwd: options.cwd ?? tempDir() });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 45_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
}
