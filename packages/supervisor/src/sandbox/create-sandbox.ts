import { randomUUID } from "node:crypto";
import { existsSync, realpathSync, statSync } from "node:fs";
import { chmod, lchown, lstat, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type AgentIdentity, resolveAgentIdentity } from "./agent-identity";
import { agentReadOnlyPaths, describeSystemDirs, installTree, isWithin, SYSTEM_DIRS, whichIn } from "./agent-paths";
import { buildBwrapArgv, type MaskPath } from "./build-bwrap-argv";
import { chownTree } from "./chown-tree";
import {
  type EgressDenial,
  type EgressProxy,
  type EgressRule,
  parseEgressRule,
  startEgressProxy,
} from "./egress-proxy";
import { CgroupUnavailableError, createRunCgroup, type RunCgroup } from "./run-cgroup";
import { SandboxSetupError } from "./sandbox-setup-error";
import { seedHome } from "./seed-home";
import { gitExposure, readWorktreeGit } from "./worktree-git";

/** In-sandbox locations (the sandbox's root is bwrap's own tmpfs: none of these exist on the host side). */
export const SANDBOX_HOME = "/home/agent";
export const SANDBOX_RUN_DIR = "/run/forgehand";
export const SANDBOX_INIT_PATH = "/run/forgehand-init.mjs";
/** The fast init and its egress bridge (see `SandboxSpec.init`). */
export const SANDBOX_FAST_INIT_PATH = "/run/forgehand-init.pl";
export const SANDBOX_BRIDGE_PATH = "/run/forgehand-bridge.mjs";
/** Port of the egress bridge on the sandbox's own loopback. */
export const SANDBOX_PROXY_PORT = 3128;

export interface SandboxSpec {
  /** The run's worktree (absolute): the only writable tree besides `writable`, HOME and /tmp (a tmpfs). */
  worktree: string;
  /** The agent's argv (argv[0] looked up in `env.PATH`). */
  command: string[];
  /** The exact environment of the agent: configured `env` + PATH + FORGEHAND_* (the caller composes it; nothing of
   *  the runner's own environment is added). HOME and the proxy variables are set here. */
  env: Record<string, string>;
  /** `sandbox.writable`: extra directories the agent may write (must be writable by the agent uid). */
  writable?: string[];
  /** Extra read-only paths, on top of the agent executable's tree and the absolute paths in `command`. */
  readOnly?: string[];
  /** `sandbox.home`: files or dirs copied into the private HOME (`~/x` = the runner's HOME/x, landing at HOME/x). */
  home?: string[];
  /**
   * A host dir kept across runs as the agent's HOME (made 0700 and owned by the agent; `home` files are re-copied
   * into it at every prepare; cleanup leaves it). Without it HOME is a fresh per-run dir, removed by cleanup.
   * Used for a per-issue HOME, so an agent's sessions (`~/.claude`) survive to a `/retry` resume.
   */
  homeDir?: string;
  /** Files written into the run dir (read-only inside, at `${SANDBOX_RUN_DIR}/<name>`, readable by the agent only). */
  files?: { name: string; content: string }[];
  /** `sandbox.network.allow` (`host:port`) plus the defaults the caller adds (vendor API, `*_BASE_URL` hosts). */
  allow?: ReadonlyArray<string | EgressRule>;
  /** Called for every refused connection (for the run log). */
  onDenied?: (denial: EgressDenial) => void;
  /** Paths to hide even when inside a visible tree (the config dir under /etc, the data dir, …). */
  hide?: string[];
  /** The worktree's gitdir read-only (default) or hidden. */
  git?: "read-only" | "hidden";
  /** Who the agent runs as. @defaultValue resolveAgentIdentity() */
  identity?: AgentIdentity;
  /** Per-run cgroup (`false`: none). Without host support the run goes on without one (`cgroupUnavailable`
   *  says why) unless `required`. */
  cgroup?: false | { name?: string; memoryMax?: number; pidsMax?: number; required?: boolean; root?: string };
  /** Where the per-run dir (HOME, proxy socket, env file) is made. @defaultValue os.tmpdir() */
  runDirParent?: string;
  /** @defaultValue `bwrap` from PATH */
  bwrap?: string;
  /** @defaultValue process.execPath */
  node?: string;
  /** The runner's HOME (`~/` in `home` entries); never visible in the sandbox. @defaultValue os.homedir() */
  runnerHome?: string;
  /**
   * `fast`: perl (perl-base) execs the agent after util-linux `setpriv` dropped the uid; the egress bridge's node
   * starts beside the agent, not before it (no second node start on the way to the agent). `node`: forgehand's
   * node init spawns the agent. `auto` (default): `fast` when perl (and, for a root runner, setpriv) is in a system
   * dir, else `node`.
   */
  init?: "auto" | "fast" | "node";
}

export interface Sandbox {
  /** The full argv to spawn (`[sh -c <enter cgroup>…] bwrap … -- node init … -- …command`). Final after prepare(). */
  readonly argv: string[];
  /** What spawn() needs: a minimal environment for bwrap itself (the agent's is in the env file). */
  readonly spawnEnv: Record<string, string>;
  /** The agent's environment inside the sandbox (HOME, proxy variables included). */
  readonly env: Record<string, string>;
  readonly identity: AgentIdentity;
  /** The per-run host dir (removed by cleanup). */
  readonly runDir: string;
  /** Creates the run dir, HOME (seeded, 0700, owned by the agent), env file, proxy and cgroup; hands the worktree
   *  to the agent uid (root runner). Throws `SandboxSetupError` naming what is missing; nothing is left behind. */
  prepare(): Promise<void>;
  /** Kills what is left in the cgroup, stops the proxy, gives the worktree back, removes the run dir. Idempotent. */
  cleanup(): Promise<void>;
  readonly deniedConnections: readonly EgressDenial[];
  readonly deniedCount: number;
  /** The run cgroup, when one was made. */
  readonly cgroup: RunCgroup | undefined;
  /** Why there is no cgroup (undefined when there is one or none was asked for). */
  readonly cgroupUnavailable: string | undefined;
  /** Root runner: what handing the worktree to the agent (prepare) and back (cleanup) cost. */
  readonly worktreeChown: { entries: number; ms: number; backEntries?: number; backMs?: number } | undefined;
  /** Which init runs in the sandbox (see `SandboxSpec.init`). */
  readonly init: "fast" | "node";
  /** What prepare() spent, ms: in total and per step (the steps after `dirs` run concurrently). */
  readonly timings: { prepareMs?: number; dirsMs?: number; homeMs?: number; proxyMs?: number; cgroupMs?: number };
}

export { SandboxSetupError };

const INIT_SCRIPT = fileURLToPath(new URL("./sandbox-init.mjs", import.meta.url));
const FAST_INIT_SCRIPT = fileURLToPath(new URL("./sandbox-init.pl", import.meta.url));
const BRIDGE_SCRIPT = fileURLToPath(new URL("./sandbox-bridge.mjs", import.meta.url));

/** `bwrap` on PATH (or the standard locations), or undefined. Cached per PATH (looked up for every run). */
const bwrapCache = new Map<string, string | undefined>();
export function findBwrap(PATH = process.env.PATH ?? ""): string | undefined {
  if (!bwrapCache.has(PATH)) bwrapCache.set(PATH, whichIn("bwrap", `${PATH}:/usr/bin:/bin:/usr/local/bin`));
  return bwrapCache.get(PATH);
}

let fastTools: { perl?: string; setpriv?: string } | undefined;
/** perl and setpriv from the system dirs only (they run as root before the drop: never from a user's PATH). */
export function findFastInitTools(): { perl?: string; setpriv?: string } {
  fastTools ??= {
    perl: whichIn("perl", "/usr/bin:/bin"),
    setpriv: whichIn("setpriv", "/usr/bin:/bin:/usr/sbin:/sbin"),
  };
  return fastTools;
}

/**
 * A sandbox for one agent or gate process. Synchronous and side-effect free; `prepare()` makes it real.
 * Spawn `sandbox.argv` with `env: sandbox.spawnEnv` (never the runner's environment) as the runner's own user.
 */
export function createSandbox(spec: SandboxSpec): Sandbox {
  if (!isAbsolute(spec.worktree)) throw new TypeError(`[sandbox] worktree must be absolute, got \`${spec.worktree}\``);
  const identity = spec.identity ?? resolveAgentIdentity();
  const id = randomUUID().slice(0, 12);
  const runDir = join(spec.runDirParent ?? tmpdir(), `forgehand-sandbox-${id}`);
  const hostHome = spec.homeDir ?? join(runDir, "home");
  const hostRun = join(runDir, "run");
  const socketPath = join(hostRun, "proxy.sock");
  const tools = findFastInitTools();
  // The fast init's env file is NUL-separated NAME=VALUE: a name holding `=` (or a NUL anywhere) needs the JSON one.
  const plainEnv = Object.entries(spec.env).every(([k, v]) => k && !/[=\0]/.test(k) && !v.includes("\0"));
  const fastOk = plainEnv && tools.perl !== undefined && (!identity.runnerIsRoot || tools.setpriv !== undefined);
  if (spec.init === "fast" && !fastOk) {
    throw new SandboxSetupError(
      "the fast init needs perl (and, for a root runner, setpriv) in /usr/bin and env names without `=`",
    );
  }
  const init: "fast" | "node" = spec.init === "node" || !fastOk ? "node" : "fast";
  const envFile = join(hostRun, init === "fast" ? "env" : "env.json");
  const rules = (spec.allow ?? []).map(parseEgressRule);
  const node = spec.node ?? process.execPath;
  const runnerHome = spec.runnerHome ?? homedir();

  const proxyUrl = `http://127.0.0.1:${SANDBOX_PROXY_PORT}`;
  const PATH = spec.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  const nodeBin = dirname(node);
  const env: Record<string, string> = {
    ...spec.env,
    PATH: PATH.split(":").includes(nodeBin) ? PATH : `${PATH}:${nodeBin}`,
    HOME: SANDBOX_HOME,
    HTTPS_PROXY: proxyUrl,
    HTTP_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    http_proxy: proxyUrl,
    NO_PROXY: "",
    no_proxy: "",
  };
  // Under a user namespace / another uid the worktree's owner differs from the agent: without this git refuses
  // the repository ("dubious ownership"). Composed onto a caller's own GIT_CONFIG_COUNT.
  if (!Object.keys(spec.env).some((k) => k.startsWith("GIT_CONFIG_KEY_") && spec.env[k] === "safe.directory")) {
    const n = Number(spec.env.GIT_CONFIG_COUNT ?? 0) || 0;
    env.GIT_CONFIG_COUNT = String(n + 1);
    env[`GIT_CONFIG_KEY_${n}`] = "safe.directory";
    env[`GIT_CONFIG_VALUE_${n}`] = "*";
  }

  let worktree: string;
  try {
    worktree = realpathSync(spec.worktree);
  } catch {
    worktree = spec.worktree;
  }
  const writable = spec.writable ?? [];
  const visible = [...SYSTEM_DIRS, worktree, ...writable];
  const readOnly = [
    ...(spec.readOnly ?? []),
    ...agentReadOnlyPaths(spec.command, PATH, visible, runnerHome),
    ...agentReadOnlyPaths([node], "", visible, runnerHome),
  ];
  // node's own tree when it is not under a system dir (nvm, /opt/node): the init and `#!/usr/bin/env node` need it.
  if (!SYSTEM_DIRS.some((d) => isWithin(node, d))) readOnly.push(installTree(realpathOr(node), runnerHome));

  let cgroup: RunCgroup | undefined;
  let cgroupUnavailable: string | undefined;
  let proxy: EgressProxy | undefined;
  let worktreeOwner: { uid: number; gid: number } | undefined;
  let worktreeChown: Sandbox["worktreeChown"];
  let argv: string[] | undefined;
  const timings: Sandbox["timings"] = {};
  let prepared = false;
  let cleaned = false;

  const build = (): string[] => {
    const git = readWorktreeGit(worktree);
    const masks: MaskPath[] = [];
    for (const h of spec.hide ?? []) {
      if (!isAbsolute(h) || !existsSync(h)) continue;
      if (![...visible, ...readOnly].some((v) => isWithin(h, v))) continue;
      // Masking a dir that holds the worktree (a data dir) would cover the worktree itself.
      if (isWithin(worktree, h)) continue;
      masks.push({ path: h, kind: statSync(h).isDirectory() ? "dir" : "file" });
    }
    const bwrap = spec.bwrap ?? findBwrap();
    if (!bwrap || !whichIn(bwrap, "")) {
      throw new SandboxSetupError(
        `bubblewrap (bwrap) is not installed${bwrap ? ` at ${bwrap}` : ""}: run \`node scripts/prereqs.mjs\` or \`apt-get install bubblewrap\``,
      );
    }
    const argv = buildBwrapArgv({
      bwrap,
      worktree,
      writable,
      readOnly,
      system: describeSystemDirs(),
      masks,
      git: git ? gitExposure(git, spec.git ?? "read-only") : undefined,
      home: { hostDir: hostHome, path: SANDBOX_HOME },
      runDir: { hostDir: hostRun, path: SANDBOX_RUN_DIR },
      init:
        init === "fast"
          ? {
              node,
              hostScript: FAST_INIT_SCRIPT,
              path: SANDBOX_FAST_INIT_PATH,
              fast: {
                perl: tools.perl!,
                setpriv: tools.setpriv,
                bridge: { hostScript: BRIDGE_SCRIPT, path: SANDBOX_BRIDGE_PATH },
              },
            }
          : { node, hostScript: INIT_SCRIPT, path: SANDBOX_INIT_PATH },
      userns: identity.runnerIsRoot ? null : { uid: identity.uid, gid: identity.gid },
      dropTo: identity.runnerIsRoot ? { uid: identity.uid, gid: identity.gid } : undefined,
      envFile: `${SANDBOX_RUN_DIR}/${init === "fast" ? "env" : "env.json"}`,
      proxy: { socket: `${SANDBOX_RUN_DIR}/proxy.sock`, port: SANDBOX_PROXY_PORT },
      hostname: "forgehand-sandbox",
      command: spec.command,
    });
    return cgroup ? cgroup.wrap(argv) : argv;
  };

  const agent = { uid: identity.uid, gid: identity.gid };
  const sandbox: Sandbox = {
    get argv() {
      argv ??= build();
      return argv;
    },
    spawnEnv: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
    env,
    identity,
    runDir,
    get deniedConnections() {
      return proxy?.denied ?? [];
    },
    get deniedCount() {
      return proxy?.deniedCount ?? 0;
    },
    get cgroup() {
      return cgroup;
    },
    get cgroupUnavailable() {
      return cgroupUnavailable;
    },
    get worktreeChown() {
      return worktreeChown;
    },
    init,
    timings,
    async prepare() {
      if (prepared) throw new Error("[sandbox] prepare() called twice");
      prepared = true;
      try {
        if (!existsSync(worktree) || !statSync(worktree).isDirectory()) {
          throw new SandboxSetupError(`the worktree ${worktree} does not exist`);
        }
        argv = build(); // fails early (bwrap missing) before anything is made
        const t0 = performance.now();
        const since = (t: number) => Math.round((performance.now() - t) * 10) / 10;
        await mkdir(runDir, { mode: 0o700 });
        await Promise.all([mkdir(hostHome, { recursive: true, mode: 0o700 }), mkdir(hostRun, { mode: 0o711 })]);
        await chmod(hostHome, 0o700);
        const envText =
          init === "fast"
            ? Object.entries(env)
                .map(([k, v]) => `${k}=${v}\0`)
                .join("")
            : JSON.stringify(env);
        await writeFile(envFile, envText, { mode: 0o600 });
        // The fast init reads it after setpriv's drop: readable by the agent only (it is the agent's own env).
        if (init === "fast" && identity.runnerIsRoot) await lchown(envFile, agent.uid, agent.gid);
        for (const f of spec.files ?? []) {
          if (
            !/^[\w.-]+$/.test(f.name) ||
            ["env", "env.json", "proxy.sock"].includes(f.name) ||
            f.name.startsWith(".")
          ) {
            throw new SandboxSetupError(`bad run-dir file name \`${f.name}\``);
          }
          const path = join(hostRun, f.name);
          await writeFile(path, f.content, { mode: 0o600 });
          if (identity.runnerIsRoot) await lchown(path, agent.uid, agent.gid);
        }
        timings.dirsMs = since(t0);
        // Independent steps, concurrently; allSettled so that nothing is still being made when cleanup runs.
        const step = async (key: "homeMs" | "proxyMs" | "cgroupMs" | undefined, f: () => Promise<void>) => {
          const t = performance.now();
          await f();
          if (key) timings[key] = since(t);
        };
        const results = await Promise.allSettled([
          step("homeMs", async () => {
            await seedHome(spec.home ?? [], hostHome, runnerHome);
            if (identity.runnerIsRoot) await chownTree(hostHome, agent.uid, agent.gid);
          }),
          step("proxyMs", async () => {
            proxy = await startEgressProxy({
              socketPath,
              allow: rules,
              onDenied: spec.onDenied,
              socketOwner: identity.runnerIsRoot ? agent : undefined,
            });
          }),
          step(undefined, async () => {
            if (!identity.runnerIsRoot) return;
            for (const w of writable) await checkWritableBy(w, agent);
            const st = await lstat(worktree);
            worktreeOwner = { uid: st.uid, gid: st.gid };
            const t = performance.now();
            const entries = await chownTree(worktree, agent.uid, agent.gid, [join(worktree, ".git")]);
            worktreeChown = { entries, ms: Math.round(performance.now() - t) };
          }),
          step("cgroupMs", async () => {
            if (spec.cgroup === false) return;
            const c = spec.cgroup ?? {};
            try {
              cgroup = await createRunCgroup({
                name: c.name ?? `run-${id}`,
                memoryMax: c.memoryMax,
                pidsMax: c.pidsMax,
                root: c.root,
              });
            } catch (error) {
              if (!(error instanceof CgroupUnavailableError) || c.required) throw error;
              cgroupUnavailable = error.message;
            }
          }),
        ]);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed) throw failed.reason;
        timings.prepareMs = since(t0);
        argv = build();
      } catch (error) {
        await sandbox.cleanup().catch(() => {});
        if (error instanceof SandboxSetupError) throw error;
        throw new SandboxSetupError(`cannot set up the sandbox: ${(error as Error).message}`, { cause: error });
      }
    },
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      const errors: unknown[] = [];
      const step = async (f: () => Promise<unknown>) => {
        try {
          await f();
        } catch (error) {
          errors.push(error);
        }
      };
      if (cgroup) {
        const c = cgroup;
        await step(() => c.remove());
      }
      if (proxy) {
        const p = proxy;
        await step(() => p.close());
      }
      if (worktreeOwner && existsSync(worktree)) {
        const o = worktreeOwner;
        await step(async () => {
          const t0 = performance.now();
          const back = await chownTree(worktree, o.uid, o.gid, [join(worktree, ".git")]);
          if (worktreeChown)
            Object.assign(worktreeChown, { backEntries: back, backMs: Math.round(performance.now() - t0) });
        });
      }
      await step(() => rm(runDir, { recursive: true, force: true }));
      if (errors.length > 0) throw new AggregateError(errors, "[sandbox] cleanup failed");
    },
  };
  return sandbox;
}

function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

async function checkWritableBy(dir: string, who: { uid: number; gid: number }): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new SandboxSetupError(`sandbox.writable ${dir} is not a directory`);
  const ok = (st.uid === who.uid && st.mode & 0o200) || (st.gid === who.gid && st.mode & 0o020) || st.mode & 0o002;
  if (!ok) {
    throw new SandboxSetupError(
      `sandbox.writable ${dir} is not writable by the agent uid ${who.uid}: chown ${who.uid}:${who.gid} it`,
    );
  }
}
