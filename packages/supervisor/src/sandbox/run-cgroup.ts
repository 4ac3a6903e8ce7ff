import { existsSync, readFileSync } from "node:fs";
import { access, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** What `doctor` and the run log say about per-run cgroups on this host. */
export interface CgroupSupport {
  available: boolean;
  /** Why not (or, when available, what is missing: "memory limits unavailable: …"). */
  reason: string;
  /** The cgroup2 mount point, when one exists. */
  mount?: string;
  /** The directory run cgroups are made under (`<mount><own cgroup>/forgehand`). */
  parent?: string;
  /** Controllers usable in a run cgroup (`memory`, `pids` matter; `cgroup.kill` works without any). */
  controllers: string[];
}

export interface RunCgroupOptions {
  /** Directory under which `forgehand/<name>` is made. @defaultValue auto-detected (see `detectCgroupSupport`) */
  root?: string;
  /** The run's cgroup name (one path segment). */
  name: string;
  /** memory.max in bytes; ignored (reported in `limits`) when the memory controller is not delegated. */
  memoryMax?: number;
  /** pids.max; ignored (reported in `limits`) when the pids controller is not delegated. */
  pidsMax?: number;
}

export interface RunCgroup {
  path: string;
  /** Which limits were applied, and why not when asked for but impossible. */
  limits: { memoryMax?: number | string; pidsMax?: number | string };
  /** Moves `pid` (and so its future children) into the cgroup. */
  addPid(pid: number): Promise<void>;
  /**
   * Argv prefix that enters the cgroup before the command runs: `/bin/sh -c 'echo $$ > …/cgroup.procs && exec "$@"'`
   * — the shell moves itself and then execs, so nothing the command forks is ever outside (no race with a fork).
   */
  wrap(argv: readonly string[]): string[];
  /** Pids currently in the cgroup (and below it). */
  procs(): Promise<number[]>;
  /** `cgroup.kill` (SIGKILL to every process in it, escapees included), then waits until cgroup.procs is empty. */
  kill(timeoutMs?: number): Promise<{ empty: boolean; remaining: number[] }>;
  /** Removes the (empty) cgroup; kills first when something is left. */
  remove(): Promise<void>;
}

export class CgroupUnavailableError extends Error {
  override name = "CgroupUnavailableError";
}

/** cgroup2 mount points from a mountinfo text (field after " - " is the fs type). */
export function parseCgroup2Mounts(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    if (right.split(" ")[0] !== "cgroup2") continue;
    const mountPoint = left.split(" ")[4];
    if (mountPoint) out.push(mountPoint.replace(/\\040/g, " "));
  }
  return out;
}

/** This process's cgroup v2 path (the `0::` line of /proc/self/cgroup). */
export function ownCgroup2Path(procSelfCgroup: string): string | undefined {
  const line = procSelfCgroup.split("\n").find((l) => l.startsWith("0::"));
  return line?.slice(3).trim() || undefined;
}

const readText = (p: string) => {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return "";
  }
};

/** The cgroup2 mount run cgroups are made on: `/sys/fs/cgroup` when it is cgroup2, else the first cgroup2 mount. */
export function cgroup2Mount(): string | undefined {
  const mounts = parseCgroup2Mounts(readText("/proc/self/mountinfo"));
  return mounts.find((m) => m === "/sys/fs/cgroup") ?? mounts[0];
}

/**
 * Whether per-run cgroups can be made here: a cgroup2 mount, our own cgroup in it, a writable `forgehand` dir
 * under it, and `cgroup.kill` (Linux ≥ 5.14). Tries to enable memory and pids for the run cgroups; limits work
 * only when the host delegates them (`controllers` says which).
 */
export async function detectCgroupSupport(root?: string): Promise<CgroupSupport> {
  let parent: string;
  let mount: string | undefined;
  if (root) {
    parent = join(root, "forgehand");
    mount = root;
  } else {
    mount = cgroup2Mount();
    if (!mount) return { available: false, reason: "no cgroup2 file system is mounted", controllers: [] };
    const own = ownCgroup2Path(readText("/proc/self/cgroup"));
    if (own === undefined)
      return { available: false, reason: "this process is in no cgroup v2", mount, controllers: [] };
    const ownDir = join(mount, own);
    // Our own cgroup holds processes (us): with controllers in play, runs must live in a process-free child.
    parent = join(ownDir, "forgehand");
    if (!existsSync(ownDir)) {
      return { available: false, reason: `own cgroup ${ownDir} is not visible`, mount, controllers: [] };
    }
  }
  try {
    await mkdir(parent, { recursive: true });
    await access(join(parent, "cgroup.procs"), 2 /* W_OK */);
  } catch (error) {
    return {
      available: false,
      reason: `cannot create run cgroups under ${parent}: ${(error as Error).message}`,
      mount,
      parent,
      controllers: [],
    };
  }
  const probe = join(parent, `probe-${process.pid}`);
  try {
    await mkdir(probe, { recursive: true });
    const hasKill = existsSync(join(probe, "cgroup.kill"));
    await rmdir(probe);
    if (!hasKill) {
      return { available: false, reason: "cgroup.kill is missing (Linux < 5.14)", mount, parent, controllers: [] };
    }
  } catch (error) {
    return {
      available: false,
      reason: `cannot create a cgroup: ${(error as Error).message}`,
      mount,
      parent,
      controllers: [],
    };
  }
  const controllers = await enableControllers(parent, ["memory", "pids"]);
  const missing = ["memory", "pids"].filter((c) => !controllers.includes(c));
  const reason =
    missing.length === 0
      ? "ok"
      : `cgroup.kill works; ${missing.join(" and ")} limits unavailable (controller not delegated to ${parent})`;
  return { available: true, reason, mount, parent, controllers };
}

/** Enables `wanted` in subtree_control of `parent` (and of its parent, which must offer them); returns what works. */
async function enableControllers(parent: string, wanted: string[]): Promise<string[]> {
  const grand = join(parent, "..");
  for (const dir of [grand, parent]) {
    const offered = readText(join(dir, "cgroup.controllers")).split(/\s+/).filter(Boolean);
    const enabled = readText(join(dir, "cgroup.subtree_control")).split(/\s+/).filter(Boolean);
    for (const c of wanted) {
      if (!offered.includes(c) || enabled.includes(c)) continue;
      // EBUSY when `dir` holds processes and is not the root: then the controller stays unavailable.
      await writeFile(join(dir, "cgroup.subtree_control"), `+${c}`).catch(() => {});
    }
  }
  return readText(join(parent, "cgroup.subtree_control")).split(/\s+/).filter(Boolean);
}

const readPids = async (file: string) =>
  (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean).map(Number);

/** Makes `<parent>/<name>`; throws `CgroupUnavailableError` (with the reason) when this host cannot. */
export async function createRunCgroup(options: RunCgroupOptions): Promise<RunCgroup> {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(options.name) || options.name.startsWith(".")) {
    throw new TypeError(`[sandbox] Expected a cgroup name of [A-Za-z0-9._-], got \`${options.name}\``);
  }
  const support = await detectCgroupSupport(options.root);
  if (!support.available || !support.parent) throw new CgroupUnavailableError(support.reason);
  const path = join(support.parent, options.name);
  await mkdir(path);
  const limits: RunCgroup["limits"] = {};
  const setLimit = async (
    controller: string,
    file: string,
    value: number | undefined,
    key: keyof RunCgroup["limits"],
  ) => {
    if (value === undefined) return;
    if (!support.controllers.includes(controller)) {
      limits[key] = `unavailable: ${controller} controller not delegated`;
      return;
    }
    await writeFile(join(path, file), String(value));
    limits[key] = value;
  };
  await setLimit("memory", "memory.max", options.memoryMax, "memoryMax");
  await setLimit("pids", "pids.max", options.pidsMax, "pidsMax");

  // The agent cannot make child cgroups (no /sys in the sandbox, and the dir is not its own): one procs file.
  const procs = () => readPids(join(path, "cgroup.procs"));
  const kill = async (timeoutMs = 5000) => {
    const end = Date.now() + timeoutMs;
    let remaining = await procs();
    while (true) {
      await writeFile(join(path, "cgroup.kill"), "1").catch(() => {});
      remaining = await procs();
      // Zombies leave cgroup.procs once reaped; cgroup.events `populated 0` is the kernel's own verdict.
      const populated = /populated 1/.test(await readFile(join(path, "cgroup.events"), "utf8").catch(() => ""));
      if (remaining.length === 0 && !populated) return { empty: true, remaining };
      if (Date.now() > end) return { empty: false, remaining };
      await sleep(10);
    }
  };
  return {
    path,
    limits,
    addPid: (pid) => writeFile(join(path, "cgroup.procs"), String(pid)),
    wrap: (argv) => ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', join(path, "cgroup.procs"), ...argv],
    procs,
    kill,
    remove: async () => {
      // Something may be joining right now (a spawn racing the cleanup): kill on every EBUSY, not only once.
      const end = Date.now() + 3000;
      while (true) {
        if ((await procs()).length > 0) await kill(1000);
        try {
          await rmdir(path);
          return;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === "ENOENT") return;
          if (code !== "EBUSY" || Date.now() > end) throw error;
          await sleep(20);
        }
      }
    },
  };
}
