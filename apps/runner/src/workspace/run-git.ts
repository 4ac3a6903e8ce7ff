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

/** Which repository a git call works on, named explicitly so nothing in the working tree can redirect it. */
export interface GitRepo {
  /** `--git-dir`: the mirror, or a worktree's private git dir `<mirror>/worktrees/<issue>`. */
  gitDir: string;
  /** `GIT_COMMON_DIR`: the mirror, whatever the git dir's `commondir` file says. */
  commonDir: string;
  /** `--work-tree`, for calls in an issue worktree (its `.git` file is never read). */
  workTree?: string;
}

export interface RunGitOptions {
  cwd: string;
  /** Path of the askpass script (see `ensureAskpass`). */
  askpass: string;
  /** Empty private dir used as `HOME` (see `ensureGitHome`): nothing of the runner's HOME is read. */
  home: string;
  credentials: GitCredentials | null;
  /** The repository; omitted only for calls that make one (`init`). */
  repo?: GitRepo;
  /** Sent on stdin (commit messages go this way, never through argv). */
  input?: string;
  /** Exit codes that count as an answer rather than a failure (`diff --quiet` → 1). @defaultValue [0] */
  okExitCodes?: number[];
  /** @defaultValue 120000 */
  timeoutMs?: number;
  /** Keep at most this many bytes of stdout (then `truncated`; git still runs to its end). @defaultValue 64 MiB */
  maxOutputBytes?: number;
}

/**
 * Config forced on every git call, on top of an empty global/system config and a mirror config the runner
 * checks before each call (see mirror-config.ts). Hooks, fsmonitor, `ext::` URLs and submodules are the ways
 * a repository (or an agent) could make git run code or reach other hosts; credential helpers could write
 * the token to disk; the attributes/excludes files would come from HOME. Redirects are refused: a redirect
 * to another host would get the credentials the 401 there asks for (git's default `initial` follows the
 * first request's redirect and then talks to the new host). Auto-gc is off because a detached gc would
 * outlive the run inside the worktree. `-c` cannot unset `url.*.insteadOf`, `filter.*` or `include.*`:
 * the mirror config check keeps those out.
 */
const SAFETY_CONFIG = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "core.attributesFile=/dev/null",
  "core.excludesFile=/dev/null",
  "core.askPass=",
  "protocol.ext.allow=never",
  "credential.helper=",
  "http.followRedirects=false",
  "submodule.recurse=false",
  "fetch.recurseSubmodules=false",
  "push.recurseSubmodules=no",
  "gc.auto=0",
  "maintenance.auto=false",
  "commit.gpgsign=false",
  "advice.detachedHead=false",
];

/**
 * The runner's own variables that git may see: they configure the runner's egress (proxy, CA bundle) and
 * ssh transport, never a secret of forgehand's or a forge's. Everything else (tokens, webhook secrets,
 * REDIS_URL, GIT_DIR/GIT_CONFIG_*, XDG_CONFIG_HOME) is left out: the env is built from scratch.
 */
const PASSED_VARS = [
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "ALL_PROXY",
  "all_proxy",
  "NO_PROXY",
  "no_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "CURL_CA_BUNDLE",
  "GIT_SSL_CAINFO",
  "GIT_SSL_CAPATH",
  "GIT_SSH",
  "GIT_SSH_COMMAND",
  "GIT_SSH_VARIANT",
  "SSH_AUTH_SOCK",
];

/** Runs `git <args>` (argv only, never a shell) with the safety config and askpass credentials. */
export async function runGit(
  args: string[],
  opts: RunGitOptions,
): Promise<{ stdout: string; exitCode: number; truncated?: boolean }> {
  const where = opts.repo
    ? [`--git-dir=${opts.repo.gitDir}`, ...(opts.repo.workTree ? [`--work-tree=${opts.repo.workTree}`] : [])]
    : [];
  const argv = ["git", ...SAFETY_CONFIG.flatMap((c) => ["-c", c]), ...where, ...args];
  const timeoutMs = opts.timeoutMs ?? 120_000;
  // No `sweepDir`: a mirror is shared by every run of the repository. A git that exits leaves nothing behind
  // (auto-gc is off), so the common case costs no /proc scan; a timeout kills its tree, verified.
  const result = await runCommand({
    argv,
    cwd: opts.cwd,
    env: gitEnv(opts),
    input: opts.input ?? "",
    timeoutMs,
    killGraceMs: 2_000,
    ...(opts.maxOutputBytes !== undefined ? { maxBufferBytes: opts.maxOutputBytes } : {}),
  });
  const exitCode = result.signal ? null : result.exitCode;
  const ok = opts.okExitCodes ?? [0];
  if (exitCode !== null && !result.timedOut && ok.includes(exitCode)) {
    return { stdout: stripFinalNewline(result.stdout), exitCode, ...(result.truncated ? { truncated: true } : {}) };
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

/** The whole environment of a git call (see PASSED_VARS); the credentials only when this call has some. */
export function gitEnv(opts: Pick<RunGitOptions, "askpass" | "home" | "credentials" | "repo">): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH || "/usr/local/bin:/usr/bin:/bin",
    HOME: opts.home,
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: opts.askpass,
    // Git Credential Manager would otherwise pop up a dialog or hang waiting for one.
    GCM_INTERACTIVE: "never",
  };
  for (const key of PASSED_VARS) {
    const value = process.env[key];
    if (value) env[key] = value;
  }
  if (opts.repo) env.GIT_COMMON_DIR = opts.repo.commonDir;
  if (opts.credentials) {
    env.FORGEHAND_GIT_USERNAME = opts.credentials.username;
    env.FORGEHAND_GIT_PASSWORD = opts.credentials.password;
  }
  return env;
}
