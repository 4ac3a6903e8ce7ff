import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** The pinned Claude Code CLI from devDependencies. */
export const CLAUDE_BIN = join(ROOT, "node_modules/.bin/claude");

/** The flags forgehand's tests run Claude with: headless, stream-json, edits accepted, a fixed tool set. */
export const CLAUDE_ARGS = [
  "-p",
  "--output-format",
  "stream-json",
  "--verbose",
  "--permission-mode",
  "acceptEdits",
  "--allowedTools",
  "Write,Edit,Read,Bash",
];

/** An environment that points the CLI at the model server and keeps the user's own config out. */
export function claudeEnv(baseUrl: string, home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: "test",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
}

/** A fresh temp git repository with one commit (README.md), for the agent's cwd. */
export function makeGitRepo(prefix = "fh-claude-repo-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, "README.md"), "# scratch repo\n");
  const git = (...args: string[]) => {
    const out = spawnSync("git", args, { cwd: dir, encoding: "utf8" });
    if (out.status !== 0) throw new Error(`[model-server] git ${args.join(" ")} failed: ${out.stderr}`);
  };
  git("init", "-q", "-b", "main");
  git("-c", "user.name=t", "-c", "user.email=t@example.com", "add", "README.md");
  git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init");
  return dir;
}

/** Options for {@link runClaude}. */
export interface RunClaudeOptions {
  baseUrl: string;
  cwd: string;
  prompt: string;
  /** Extra CLI flags after {@link CLAUDE_ARGS}, e.g. `["--max-turns", "2"]`. */
  args?: string[];
  /** HOME for the CLI (its session files live under it); @defaultValue a fresh temp dir */
  home?: string;
  /** Extra environment, e.g. `{ CLAUDE_CODE_MAX_RETRIES: "2" }`. */
  env?: Record<string, string>;
  /** Kill the CLI (SIGKILL) as soon as this returns true for the events printed so far. */
  killWhen?: (events: Array<Record<string, unknown>>) => boolean;
  /** Kill the CLI (SIGKILL) after this long; @defaultValue 60_000 */
  timeoutMs?: number;
}

/** What one CLI run printed. */
export interface ClaudeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed line by line (stream-json). */
  events: Array<Record<string, unknown>>;
  home: string;
  durationMs: number;
}

/** Runs the real CLI once with the prompt on stdin and waits for it to exit. */
export function runClaude(options: RunClaudeOptions): Promise<ClaudeRun> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), "fh-claude-home-"));
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(CLAUDE_BIN, [...CLAUDE_ARGS, ...(options.args ?? [])], {
      cwd: options.cwd,
      env: { ...claudeEnv(options.baseUrl, home), ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      if (options.killWhen?.(parseStreamJson(stdout.slice(0, stdout.lastIndexOf("\n") + 1)))) child.kill("SIGKILL");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`[model-server] could not start ${CLAUDE_BIN}`, { cause: error }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout,
        stderr,
        events: parseStreamJson(stdout),
        home,
        durationMs: Date.now() - started,
      });
    });
    child.stdin.end(options.prompt);
  });
}

/** Parses stream-json output; lines that are not JSON are kept as `{ type: "raw", line }`. */
export function parseStreamJson(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return { type: "raw", line };
      }
    });
}
