import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  openSync,
  readlinkSync,
  readSync,
  realpathSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import type { SystemPath } from "./build-bwrap-argv";

/** Host directories shown read-only in every sandbox (when they exist). /etc holds resolv.conf, passwd, certs. */
export const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc"];

/** SYSTEM_DIRS as they are on this host: bound, recreated as symlinks (merged /usr), or left out. */
export function describeSystemDirs(dirs: readonly string[] = SYSTEM_DIRS): SystemPath[] {
  const out: SystemPath[] = [];
  for (const path of dirs) {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out.push({ path, symlink: readlinkSync(path) });
      else if (st.isDirectory()) out.push({ path });
    } catch {}
  }
  return out;
}

/** Whether `p` is `dir` or inside it. */
export function isWithin(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

const isExecutable = (p: string) => {
  try {
    accessSync(p, constants.X_OK);
    return lstatSync(p).isFile() || lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/** `command` looked up in `PATH` like execvp does (absolute or relative-with-slash names as they are). */
export function whichIn(command: string, PATH: string): string | undefined {
  if (command.includes("/")) return existsSync(command) ? resolve(command) : undefined;
  for (const dir of PATH.split(":")) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, command);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/**
 * The directory an executable needs to run: the enclosing `node_modules` for an npm-installed CLI (its package
 * and dependencies), the prefix for `<prefix>/bin/<exe>` (`/opt/codex/bin/codex` → `/opt/codex`), else its dir.
 */
export function installTree(realExe: string, runnerHome?: string): string {
  const nm = realExe.lastIndexOf("/node_modules/");
  if (nm >= 0) return realExe.slice(0, nm + "/node_modules".length);
  const dir = dirname(realExe);
  if (basename(dir) === "bin") {
    const prefix = dirname(dir);
    const tooBroad = ["/", "/usr", "/usr/local", "/opt"];
    if (runnerHome) tooBroad.push(runnerHome, join(runnerHome, ".local"));
    if (!tooBroad.includes(prefix)) return prefix;
  }
  return dir;
}

/** The interpreter of a `#!` script (`/usr/bin/env` is no interpreter of interest), if absolute. */
function shebangInterpreter(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, 256, 0);
    const first = buf.subarray(0, n).toString("utf8").split("\n")[0] ?? "";
    const m = /^#!\s*(\/\S+)/.exec(first);
    return m?.[1];
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Read-only paths the agent's argv needs: the executable (as named and as resolved), its install tree, a
 * `#!` interpreter's tree, and every existing absolute path in argv (`/x/y`, `--flag=/x/y`). Paths already inside
 * `visible` (system dirs, the worktree) are left out.
 */
export function agentReadOnlyPaths(
  command: readonly string[],
  PATH: string,
  visible: readonly string[] = SYSTEM_DIRS,
  runnerHome?: string,
): string[] {
  const out = new Set<string>();
  const add = (p: string | undefined) => {
    if (!p || !isAbsolute(p) || p === "/" || !existsSync(p)) return;
    if (visible.some((v) => isWithin(p, v))) return;
    out.add(p);
  };
  const addExecutable = (exe: string | undefined) => {
    if (!exe) return;
    add(exe);
    let real: string;
    try {
      real = realpathSync(exe);
    } catch {
      return;
    }
    add(real);
    add(installTree(real, runnerHome));
    const interp = shebangInterpreter(real);
    if (interp && basename(interp) !== "env") {
      try {
        const realInterp = realpathSync(interp);
        add(interp);
        add(installTree(realInterp, runnerHome));
      } catch {}
    }
  };
  if (command[0]) addExecutable(whichIn(command[0], PATH));
  for (const arg of command.slice(1)) {
    const m = /^--?[\w.-]+=(\/.*)$/.exec(arg);
    add(m ? m[1] : arg.startsWith("/") ? arg : undefined);
  }
  // Drop paths inside another kept path (one bind covers them).
  const all = [...out];
  return all.filter((p) => !all.some((q) => q !== p && isWithin(p, q)));
}
