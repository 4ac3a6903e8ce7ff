import { type GitCredentials, redactSecrets } from "@forgehand/core";
import { runCommand } from "@forgehand/supervisor";

/** A git command that failed; the message is already redacted and safe to log or post. */
export class GitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "GitError";
  }
}

export interface RunGitOptions {
  cwd: string;
  /** Path of the askpass script (see `ensureAskpass`). */
  askpass: string;
  credentials: GitCredentials | null;
  /** Sent on stdin (commit messages go this way, never through argv). */
  input?: string;
  /** Exit codes that count as an answer rather than a failure (`diff --quiet` → 1). @defaultValue [0] */
  okExitCodes?: number[];
  /** @defaultValue 120000 */
  timeoutMs?: number;
}

/**
 * Config forced on every git call. Hooks and fsmonitor are the ways a repository (or an agent that edited
 * the mirror's config) could make git run code; credential helpers could write the token to disk; `ext::`
 * URLs run commands. Auto-gc is off because a detached gc would outlive the run inside the worktree.
 */
const SAFETY_CONFIG = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "protocol.ext.allow=never",
  "credential.helper=",
  "gc.auto=0",
  "maintenance.auto=false",
  "commit.gpgsign=false",
  "advice.detachedHead=false",
];

/** GIT_* variables that are safe to inherit: they configure transport, not which repository git works on. */
const INHERITED_GIT_VARS = new Set([
  "GIT_SSH",
  "GIT_SSH_COMMAND",
  "GIT_SSH_VARIANT",
  "GIT_SSL_CAINFO",
  "GIT_SSL_CAPATH",
]);

/** Runs `git <args>` (argv only, never a shell) with the safety config and askpass credentials. */
export async function runGit(args: string[], opts: RunGitOptions): Promise<{ stdout: string; exitCode: number }> {
  const argv = ["git", ...SAFETY_CONFIG.flatMap((c) => ["-c", c]), ...args];
  const timeoutMs = opts.timeoutMs ?? 120_000;
  // No `sweepDir`: a mirror is shared by every run of the repository. A git that exits leaves nothing behind
  // (auto-gc is off), so the common case costs no /proc scan; a timeout kills its tree, verified.
  const result = await runCommand({
    argv,
    cwd: opts.cwd,
    env: gitEnv(opts.askpass, opts.credentials),
    input: opts.input ?? "",
    timeoutMs,
    killGraceMs: 2_000,
  });
  const exitCode = result.signal ? null : result.exitCode;
  const ok = opts.okExitCodes ?? [0];
  if (exitCode !== null && !result.timedOut && ok.includes(exitCode)) {
    return { stdout: stripFinalNewline(result.stdout), exitCode };
  }
  const secrets = [opts.credentials?.password];
  // No exit code means git never ran (ENOENT, bad cwd): the spawn error says why.
  const detail = result.spawnError ? result.spawnError.message : stripFinalNewline(result.stderr);
  const stderr = redactSecrets(detail.slice(-2_000), secrets);
  const why = result.timedOut ? `timed out after ${timeoutMs} ms` : `exit code ${exitCode ?? "?"}`;
  const shown = redactSecrets(args.join(" "), secrets);
  throw new GitError(
    `[workspace] \`git ${shown}\` failed (${why}): ${stderr.trim() || "(no output)"}`,
    exitCode,
    stderr,
  );
}

function stripFinalNewline(text: string): string {
  return text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
}

function gitEnv(askpass: string, credentials: GitCredentials | null): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key.startsWith("GIT_") && !INHERITED_GIT_VARS.has(key)) continue;
    if (key === "SSH_ASKPASS" || key.startsWith("FORGEHAND_GIT_")) continue;
    env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  env.GIT_ASKPASS = askpass;
  // Git Credential Manager would otherwise pop up a dialog or hang waiting for one.
  env.GCM_INTERACTIVE = "never";
  if (credentials) {
    env.FORGEHAND_GIT_USERNAME = credentials.username;
    env.FORGEHAND_GIT_PASSWORD = credentials.password;
  }
  return env;
}
