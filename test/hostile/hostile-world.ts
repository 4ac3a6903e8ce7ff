import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, type RedisServerHandle, STAGE_QUEUE, startRedisServer } from "@forgehand/queue";
import { stringify } from "yaml";
import { type ForgehandProcess, startForgehand } from "../e2e/harness/forgehand-process";
import { type BareOrigin, createBareOrigin } from "../helpers/bare-origin";
import { type ForgeEmulator, startForgeEmulator } from "../support/forge-emulator";

export const ATTACKER = resolve(import.meta.dirname, "fixtures/attacker.mjs");
export const REPO = "acme/widgets";
const rand = (n: number) => randomBytes(n).toString("hex");

/** Every secret the forgehand process holds (its environment); none may reach the agent or a forge user. */
export function makeSecrets() {
  const redisPassword = `redispw${rand(12)}`;
  return {
    GITHUB_TOKEN: `ghtok-${rand(12)}`,
    GITHUB_WEBHOOK_SECRET: `whsec-${rand(12)}`,
    GITEA_TOKEN: rand(20), // 40 hex: no pattern knows it
    GITEA_WEBHOOK_SECRET: `gtwhsec-${rand(12)}`,
    FORGEHAND_API_TOKEN: `apitok-${rand(12)}`,
    redisPassword,
  };
}
export type Secrets = ReturnType<typeof makeSecrets>;

/** An HTTP server on the host's loopback that no allowlist names: any request reaching it is a leak. */
export interface Trap {
  url: string;
  port: number;
  requests: { method: string; url: string; headers: IncomingHttpHeaders }[];
  server: Server;
}

async function startTrap(): Promise<Trap> {
  const requests: Trap["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    res.writeHead(401, { "www-authenticate": 'Basic realm="trap"' }).end("trap");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, requests, server };
}

/** Everything the attack runs against: a real `forgehand start`, its Redis, forge emulator, origin, host files. */
export interface HostileWorld {
  dir: string;
  nonce: string;
  secrets: Secrets;
  /** Markers in files the agent must not read (config, HOME, data dir, other worktree). */
  markers: { config: string; gitconfig: string; credentials: string; redisFile: string; otherWorktree: string };
  /** The agent's own key and the token shapes it prints: only redaction can keep them out. */
  printed: { ownKey: string; shapes: string[] };
  paths: { config: string; data: string; home: string; otherWorktree: string; gitMarker: string };
  redis: RedisServerHandle;
  emulator: ForgeEmulator;
  origin: BareOrigin;
  trap: Trap;
  forgehand: ForgehandProcess;
  prefix: string;
  /** The Redis key of the stage job the agent tries to forge. */
  forgedKey: string;
  /** A `sleep` the test started: forgehand has nothing to do with it. */
  unrelated: ChildProcess;
  close(): Promise<void>;
}

/** Options: `sandbox` is merged into the agent's `sandbox:` (for showing a test fails with `enabled: false`). */
export async function startHostileWorld(opts: { sandbox?: Record<string, unknown> } = {}): Promise<HostileWorld> {
  const dir = mkdtempSync(join(tmpdir(), "fh-hostile-"));
  const redisDir = mkdtempSync(join(tmpdir(), "fh-hostile-redis-"));
  // HOSTILE_KEEP=1 keeps the directory (forgehand.log, data dir, origin) for a post-mortem.
  const cleanups: Array<() => unknown> = [
    () =>
      process.env.HOSTILE_KEEP ? console.error(`[hostile] kept ${dir}`) : rmSync(dir, { recursive: true, force: true }),
    () => rmSync(redisDir, { recursive: true, force: true }),
  ];
  const close = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    const nonce = rand(6);
    const secrets = makeSecrets();
    const markers = {
      config: `config-marker-${rand(8)}`,
      gitconfig: `gitconfig-marker-${rand(8)}`,
      credentials: `sk-ant-oat01-credmarker${rand(8)}`,
      redisFile: `redisfilemarker${rand(10)}`,
      otherWorktree: `other-worktree-marker-${rand(8)}`,
    };
    const printed = {
      ownKey: `own-agent-key-${rand(10)}`,
      shapes: [`ghp_${rand(18)}`, `sk-ant-api03-${rand(16)}`, `glpat-${rand(10)}`, `npm_${rand(18)}`],
    };
    const redis = await startRedisServer({ dataDir: redisDir, persistence: false, password: secrets.redisPassword });
    cleanups.push(() => redis.stop());
    const origin = createBareOrigin(dir);
    const trap = await startTrap();
    cleanups.push(() => new Promise((r) => trap.server.close(r)));
    const port = await freePort();
    const emulator = await startForgeEmulator({
      flavour: "github",
      tokens: { [secrets.GITHUB_TOKEN]: "forgehand-bot", "acme-token": "acme", "alice-token": "alice" },
      webhooks: { url: `http://127.0.0.1:${port}/webhooks/github`, secret: secrets.GITHUB_WEBHOOK_SECRET },
      gitRepos: { [REPO]: origin.path },
    });
    cleanups.push(() => emulator.close());
    emulator.addRepo(REPO, { labels: ["agent:develop", "forgehand:failed"] });
    emulator.setPermission(REPO, "alice", "write");

    const unrelated = spawn("sleep", ["1000"], { detached: true, stdio: "ignore" });
    cleanups.push(() => unrelated.kill("SIGKILL"));

    // The runner's HOME, config dir and data dir, each with something the agent must not see.
    const home = join(dir, "home");
    mkdirSync(join(home, ".claude"), { recursive: true });
    writeFileSync(join(home, ".gitconfig"), `# ${markers.gitconfig}\n[user]\n\tname = runner\n`);
    writeFileSync(join(home, ".claude", ".credentials.json"), JSON.stringify({ token: markers.credentials }));
    const data = join(dir, "data");
    // Another issue's worktree (a plain dir: the sweep, which would remove it as broken, is off).
    const otherWorktree = join(data, "workspaces", "worktrees", "github", "acme", "widgets", "99");
    mkdirSync(otherWorktree, { recursive: true });
    writeFileSync(join(otherWorktree, "marker.txt"), `${markers.otherWorktree}\n`);
    mkdirSync(join(data, "redis"), { recursive: true });
    writeFileSync(join(data, "redis", "password"), `${markers.redisFile}\n`, { mode: 0o600 });
    const gitMarker = join(dir, "git-filter-ran");
    const prefix = `fhhostile${nonce}`;
    const plan = {
      configFile: join(dir, "config", "forgehand.yml"),
      dataDir: data,
      otherWorktree,
      runnerHome: home,
      gitMarker,
      trapUrl: trap.url,
      trapPort: trap.port,
      forgeUrl: emulator.url,
      redisPort: redis.port,
      webhookPort: port,
      forgedKey: `${prefix}:${STAGE_QUEUE}:hostile-${nonce}`,
      unrelatedPid: unrelated.pid,
    };
    const configFile = writeHostileConfig(
      plan.configFile,
      markers.config,
      {
        ANTHROPIC_API_KEY: printed.ownKey,
        HOSTILE_NONCE: nonce,
        HOSTILE_PLAN: JSON.stringify(plan),
        HOSTILE_SHAPES: JSON.stringify(printed.shapes),
      },
      opts.sandbox,
    );
    chmodSync(dir, 0o700);

    const forgehand = await startForgehand({
      args: ["start", "--config", configFile],
      port,
      cwd: dir,
      logFile: join(dir, "forgehand.log"),
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        PORT: String(port),
        REDIS_URL: redis.url,
        FORGEHAND_PREFIX: prefix,
        FORGEHAND_DATA_DIR: data,
        LOG_LEVEL: "debug",
        GITHUB_TOKEN: secrets.GITHUB_TOKEN,
        GITHUB_API_URL: emulator.apiUrl,
        GITHUB_WEBHOOK_SECRET: secrets.GITHUB_WEBHOOK_SECRET,
        FORGEHAND_GITHUB_LOGIN: "forgehand-bot",
        // A second forge nobody uses here: its token and secret are held all the same.
        GITEA_URL: "http://127.0.0.1:9",
        GITEA_TOKEN: secrets.GITEA_TOKEN,
        GITEA_WEBHOOK_SECRET: secrets.GITEA_WEBHOOK_SECRET,
        FORGEHAND_GITEA_LOGIN: "forgehand-bot",
        FORGEHAND_API_TOKEN: secrets.FORGEHAND_API_TOKEN,
      },
    });
    cleanups.push(() => forgehand.stop(5_000));
    return {
      dir,
      nonce,
      secrets,
      markers,
      printed,
      paths: { config: configFile, data, home, otherWorktree, gitMarker },
      redis,
      emulator,
      origin,
      trap,
      forgehand,
      prefix,
      forgedKey: plan.forgedKey,
      unrelated,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** forgehand.yml: the attacker is the `develop` agent, sandboxed by default, resumable by `/retry`. */
function writeHostileConfig(
  path: string,
  marker: string,
  env: Record<string, string>,
  sandbox: Record<string, unknown> = {},
): string {
  const config = {
    agents: {
      hostile: {
        command: [process.execPath, ATTACKER],
        parser: "claude-stream-json",
        env,
        resumeArgs: ["--resume", "{sessionId}"],
        ...(Object.keys(sandbox).length ? { sandbox } : {}),
      },
    },
    stages: [
      {
        name: "develop",
        label: "agent:develop",
        agent: "hostile",
        prompt: "inline:Work on #{{issue.number}}: {{issue.title}}\n\n{{issue.body}}\n",
        openPullRequest: true,
        limits: { timeout: "60s" },
      },
    ],
    commands: { allow: ["write", "maintain", "admin"], permissionCacheTtl: "1s" },
    runner: { concurrency: 2, killGrace: "1s", shutdownGrace: "1s", transientRetries: 0, worktreeRetention: 0 },
    status: { interval: "500ms", actions: 5 },
  };
  mkdirSync(resolve(path, ".."), { recursive: true });
  writeFileSync(path, `# ${marker}\n${stringify(config)}`);
  return path;
}
