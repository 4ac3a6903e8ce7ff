import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const CODEX_BIN = resolve(import.meta.dirname, "../../../node_modules/.bin/codex");

/** codex argv for a custom Responses-API provider at `baseUrl` (no key, no network besides it). */
export function codexArgv(baseUrl: string, model = "gpt-5.5"): string[] {
  return [
    "exec",
    "--json",
    "--skip-git-repo-check",
    "--dangerously-bypass-approvals-and-sandbox",
    "-m",
    model,
    "-c",
    "model_provider=mock",
    "-c",
    "model_providers.mock.name=mock",
    "-c",
    `model_providers.mock.base_url=${baseUrl}`,
    "-c",
    "model_providers.mock.wire_api=responses",
    "-c",
    "model_providers.mock.request_max_retries=0",
    "-c",
    "model_providers.mock.stream_max_retries=0",
  ];
}

/** Runs the real codex once with the prompt on stdin; resolves with its stdout, stderr and exit code. */
export function runCodex(args: string[], opts: { cwd: string; prompt: string; home?: string }) {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), "codex-home-"));
  return new Promise<{ stdout: string; stderr: string; code: number | null }>((done) => {
    const child = spawn(CODEX_BIN, args, {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => done({ stdout, stderr, code }));
    child.stdin.end(opts.prompt);
  });
}
