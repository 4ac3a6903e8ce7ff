import { execFile } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { accessSync, constants, mkdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { ConfigError, type ForgeId, type LoadedConfig, redactUrl } from "@forgehand/core";
import { BOT_LOGIN_ENV, discoverBotLogin, forgeOptionsFromEnv } from "@forgehand/forge";
import { connectRedis } from "./connect-redis";
import { findExecutable } from "./find-executable";
import { findRedisUrl } from "./redis-target";
import { type ConfigSource, loadCliConfig } from "./resolve-config";

/** One doctor line. `skip` is informational (not configured) and does not fail the run. */
export interface CheckResult {
  name: string;
  status: "ok" | "fail" | "skip";
  detail: string;
}

type Env = Record<string, string | undefined>;
const ok = (name: string, detail: string): CheckResult => ({ name, status: "ok", detail });
const fail = (name: string, detail: string): CheckResult => ({ name, status: "fail", detail });
const skip = (name: string, detail: string): CheckResult => ({ name, status: "skip", detail });

/** Config: which file, valid or not (each bad field), and unset `${VARS}` it references. */
export function checkConfig(flag: string | undefined, env: Env): { results: CheckResult[]; loaded?: LoadedConfig } {
  let loaded: LoadedConfig & { source: ConfigSource };
  try {
    loaded = loadCliConfig(flag, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const fields = error.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    return { results: [fail("config", fields ? `${error.message.split("\n")[0]} ${fields}` : error.message)] };
  }
  const { config } = loaded;
  const where = loaded.source === "example" ? `${loaded.path} (shipped example: no ./forgehand.yml)` : loaded.path;
  const results = [
    ok("config", `${where}: valid, ${config.stages.length} stages, ${Object.keys(config.agents).length} agents`),
    loaded.missingEnv.length
      ? fail(
          "config vars",
          `unset: ${loaded.missingEnv.map((m) => `\${${m.name}} (at ${m.path})`).join(", ")}; set them or use \${NAME:-default}`,
        )
      : ok("config vars", "every ${VAR} the config references is set"),
  ];
  return { results, loaded };
}

/** Redis: PING the configured Redis (bounded, never hangs), or find redis-server for the embedded one. */
export async function checkRedis(env: Env, dataDir: string, timeoutMs = 3_000): Promise<CheckResult> {
  let target: ReturnType<typeof findRedisUrl>;
  try {
    target = findRedisUrl(env, dataDir);
  } catch (error) {
    // An embedded Redis whose password file others could read: says which file and what to do.
    return fail("redis", (error as Error).message.replace(/^\[redis\] /, ""));
  }
  if (!target) {
    const bin = findExecutable("redis-server", env, process.cwd());
    return bin
      ? ok("redis", `embedded: redis-server found at ${bin} (REDIS_URL unset; forgehand start runs its own)`)
      : fail("redis", "REDIS_URL is unset and redis-server is not on PATH: install redis-server or set REDIS_URL");
  }
  try {
    const redis = await connectRedis(target.url, timeoutMs);
    redis.disconnect();
    const shown = redactUrl(target.url);
    return ok(
      "redis",
      target.from === "embedded"
        ? `${shown} (embedded, from a running forgehand start) answers PING`
        : `${shown} answers PING`,
    );
  } catch (error) {
    return fail("redis", (error as Error).message.replace(/^\[cli\] /, ""));
  }
}

function privateKeyProblem(env: Env): string | undefined {
  let pem = env.GITHUB_PRIVATE_KEY;
  if (!pem && env.GITHUB_PRIVATE_KEY_PATH) {
    try {
      pem = readFileSync(env.GITHUB_PRIVATE_KEY_PATH, "utf8");
    } catch (error) {
      return `GITHUB_PRIVATE_KEY_PATH ${env.GITHUB_PRIVATE_KEY_PATH} is unreadable (${(error as NodeJS.ErrnoException).code})`;
    }
  }
  if (!pem) return "GITHUB_APP_ID is set but neither GITHUB_PRIVATE_KEY nor GITHUB_PRIVATE_KEY_PATH is";
  try {
    // Keys pasted into env files often carry literal \n; the forge client accepts those too.
    createPrivateKey(pem.includes("\\n") ? pem.replace(/\\n/g, "\n") : pem);
    return undefined;
  } catch (error) {
    return `the GitHub App private key does not parse as a PEM key (${(error as Error).message})`;
  }
}

/**
 * Forge credentials and webhook secrets; a forge with nothing set is skipped, but one forge is needed.
 * The bot login comes from FORGEHAND_*_LOGIN, else the forge is asked (bounded by `timeoutMs`).
 */
export async function checkForges(env: Env, timeoutMs = 5_000): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const appMode = Boolean(env.GITHUB_APP_ID || env.GITHUB_PRIVATE_KEY || env.GITHUB_PRIVATE_KEY_PATH);
  const github = appMode || Boolean(env.GITHUB_TOKEN);
  let githubProblem: string | undefined;
  if (appMode) {
    const problem = !env.GITHUB_APP_ID
      ? "GITHUB_PRIVATE_KEY(_PATH) is set but GITHUB_APP_ID is not"
      : !/^\d+$/.test(env.GITHUB_APP_ID)
        ? `GITHUB_APP_ID must be the numeric App id, got \`${env.GITHUB_APP_ID}\``
        : privateKeyProblem(env);
    githubProblem = problem;
    results.push(
      problem ? fail("github", problem) : ok("github", `GitHub App ${env.GITHUB_APP_ID}, private key parses`),
    );
  } else if (env.GITHUB_TOKEN) results.push(ok("github", "GITHUB_TOKEN is set (personal/bot token)"));
  else results.push(skip("github", "not configured (GITHUB_TOKEN or GITHUB_APP_ID + GITHUB_PRIVATE_KEY)"));
  if (github && env.GITHUB_API_URL && !URL.canParse(env.GITHUB_API_URL)) {
    githubProblem = "GITHUB_API_URL is not a URL";
    results.push(fail("github api", `GITHUB_API_URL is not a URL: \`${env.GITHUB_API_URL}\``));
  }
  if (github || env.GITHUB_WEBHOOK_SECRET)
    results.push(
      env.GITHUB_WEBHOOK_SECRET
        ? ok("github secret", "GITHUB_WEBHOOK_SECRET is set")
        : fail("github secret", "GITHUB_WEBHOOK_SECRET is unset: every GitHub delivery would be rejected (401)"),
    );
  const githubAt = results.length;

  const githubLogin = github ? botLoginCheck("github", env, githubProblem, timeoutMs) : undefined;

  const gitea = Boolean(env.GITEA_URL || env.GITEA_TOKEN);
  let giteaProblem: string | undefined;
  if (gitea) {
    const problem = !env.GITEA_URL
      ? "GITEA_TOKEN is set but GITEA_URL is not"
      : !URL.canParse(env.GITEA_URL)
        ? `GITEA_URL is not a URL: \`${env.GITEA_URL}\``
        : !env.GITEA_TOKEN
          ? "GITEA_URL is set but GITEA_TOKEN is not"
          : undefined;
    giteaProblem = problem;
    results.push(problem ? fail("gitea", problem) : ok("gitea", `${env.GITEA_URL} with GITEA_TOKEN`));
  } else results.push(skip("gitea", "not configured (GITEA_URL + GITEA_TOKEN)"));
  if (gitea || env.GITEA_WEBHOOK_SECRET)
    results.push(
      env.GITEA_WEBHOOK_SECRET
        ? ok("gitea secret", "GITEA_WEBHOOK_SECRET is set")
        : fail("gitea secret", "GITEA_WEBHOOK_SECRET is unset: every Gitea delivery would be rejected (401)"),
    );
  const giteaLogin = gitea ? botLoginCheck("gitea", env, giteaProblem, timeoutMs) : undefined;
  // Both forges are asked at once; each answer goes where its line belongs.
  const [gh, gt] = await Promise.all([githubLogin, giteaLogin]);
  if (gt) results.push(gt);
  if (gh) results.splice(githubAt, 0, gh);
  if (!github && !gitea)
    results.push(
      fail("forges", "no forge credentials: set GITHUB_TOKEN, GITHUB_APP_ID + key, or GITEA_URL + GITEA_TOKEN"),
    );
  return results;
}

// Without its own login the bot cannot tell its comments and label changes from people's (loops).
async function botLoginCheck(
  forge: ForgeId,
  env: Env,
  credentialProblem: string | undefined,
  timeoutMs: number,
): Promise<CheckResult> {
  const variable = BOT_LOGIN_ENV[forge];
  const explicit = env[variable];
  if (explicit) return ok(`${forge} login`, `bot account ${explicit} (from ${variable}; its own events are ignored)`);
  const unset = `${variable} is unset`;
  const consequence = "the bot would read its own comments and label changes as people's";
  if (credentialProblem) return fail(`${forge} login`, `${unset} and the credentials are unusable: ${consequence}`);
  try {
    const login = await discoverBotLogin(forge, forgeOptionsFromEnv(env as NodeJS.ProcessEnv), timeoutMs);
    return ok(`${forge} login`, `discovered as ${login} (asked the forge; its own events are ignored)`);
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/^\[forge\] /, "") : String(error);
    return fail(
      `${forge} login`,
      `${unset} and the forge did not say who the bot is (${why}): set ${variable}; ${consequence}`,
    );
  }
}

/** Each configured agent's program, found on PATH or in node_modules/.bin. */
export function checkAgents(loaded: LoadedConfig, env: Env, searchDirs: string[]): CheckResult[] {
  return Object.entries(loaded.config.agents).map(([name, agent]) => {
    const program = agent.command[0]!;
    const found = findExecutable(program, env, loaded.baseDir, searchDirs);
    return found
      ? ok(`agent ${name}`, `${program} → ${found}`)
      : fail(
          `agent ${name}`,
          `\`${program}\` is not on PATH or in node_modules/.bin; install it or fix agents.${name}.command`,
        );
  });
}

/** git, used for mirrors, worktrees and pushes. */
export async function checkGit(env: Env): Promise<CheckResult> {
  try {
    const { stdout } = await promisify(execFile)("git", ["--version"], {
      timeout: 5_000,
      env: env as NodeJS.ProcessEnv,
    });
    return ok("git", stdout.trim());
  } catch (error) {
    return fail("git", `git does not run: ${(error as Error).message}`);
  }
}

/** The data dir (mirrors, worktrees, embedded Redis) must be writable. */
export function checkDataDir(dataDir: string): CheckResult {
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK);
    return ok("data dir", `${dataDir} is writable`);
  } catch (error) {
    return fail("data dir", `${dataDir} is not writable (${(error as NodeJS.ErrnoException).code})`);
  }
}
