import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseStreamJson } from "../model-server/run-claude";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** The pinned Gemini CLI from devDependencies. */
export const GEMINI_BIN = join(ROOT, "node_modules/.bin/gemini");

/** Headless, JSONL events, every tool call approved (the sandbox is the boundary), the model named. */
export const GEMINI_ARGS = ["-m", "gemini-2.5-pro", "--yolo", "--output-format", "stream-json"];

/**
 * `~/.gemini/settings.json` for an offline run: API-key auth (with only GOOGLE_GEMINI_BASE_URL set the CLI picks
 * `gateway` auth, which headless mode rejects, exit 41) and at most `maxAttempts` tries per model call.
 */
export function geminiSettings(maxAttempts = 2): string {
  return `${JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } }, general: { maxAttempts } })}\n`;
}

/** Writes {@link geminiSettings} into `home/.gemini/settings.json`; returns its path. */
export function writeGeminiSettings(home: string, maxAttempts = 2): string {
  mkdirSync(join(home, ".gemini"), { recursive: true });
  const path = join(home, ".gemini", "settings.json");
  writeFileSync(path, geminiSettings(maxAttempts));
  return path;
}

/** The environment that points the CLI at the scripted server (nothing of the user's own config). */
export function geminiEnv(baseUrl: string, home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    GEMINI_API_KEY: "test",
    GOOGLE_GEMINI_BASE_URL: baseUrl,
    // Else --yolo is downgraded to `default` approval in an untrusted folder, and headless tool calls fail.
    GEMINI_CLI_TRUST_WORKSPACE: "true",
  };
}

export interface RunGeminiOptions {
  baseUrl: string;
  cwd: string;
  prompt: string;
  args?: string[];
  home?: string;
  env?: Record<string, string>;
  killWhen?: (events: Array<Record<string, unknown>>) => boolean;
  timeoutMs?: number;
}

export interface GeminiRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: Array<Record<string, unknown>>;
  home: string;
}

/** Runs the real CLI once with the prompt on stdin and waits for it to exit. */
export function runGemini(options: RunGeminiOptions): Promise<GeminiRun> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), "fh-gemini-home-"));
  writeGeminiSettings(home);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(GEMINI_BIN, [...GEMINI_ARGS, ...(options.args ?? [])], {
      cwd: options.cwd,
      env: { ...geminiEnv(options.baseUrl, home), ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      // Its own group: the CLI relaunches itself as a child node process, which a kill of the parent leaves running.
      detached: true,
    });
    const kill = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Gone already.
      }
    };
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      if (options.killWhen?.(parseStreamJson(stdout.slice(0, stdout.lastIndexOf("\n") + 1)))) kill();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const timer = setTimeout(kill, options.timeoutMs ?? 90_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`[gemini-server] could not start ${GEMINI_BIN}`, { cause: error }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, events: parseStreamJson(stdout), home });
    });
    child.stdin.end(options.prompt);
  });
}
