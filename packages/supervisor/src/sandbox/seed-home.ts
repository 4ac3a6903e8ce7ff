import { existsSync } from "node:fs";
import { chmod, cp, lstat, mkdir, rm } from "node:fs/promises";
import { dirname, isAbsolute, join, relative } from "node:path";
import { SandboxSetupError } from "./sandbox-setup-error";

/** Copies each `sandbox.home` entry into the private HOME at the same place relative to HOME. */
export async function seedHome(entries: readonly string[], hostHome: string, runnerHome: string): Promise<void> {
  for (const entry of entries) {
    const source = entry.startsWith("~/") ? join(runnerHome, entry.slice(2)) : entry;
    if (!isAbsolute(source)) throw new SandboxSetupError(`sandbox.home entry \`${entry}\` must be ~/… or absolute`);
    const rel = relative(runnerHome, source);
    if (rel.startsWith("..") || isAbsolute(rel) || rel === "") {
      throw new SandboxSetupError(`sandbox.home entry \`${entry}\` is not inside the runner's HOME (${runnerHome})`);
    }
    if (!existsSync(source)) throw new SandboxSetupError(`sandbox.home entry \`${entry}\` does not exist (${source})`);
    const dest = join(hostHome, rel);
    // A kept HOME holds what earlier agents wrote: a planted symlink (at `dest` or a parent) must not make this
    // root copy write outside it. Each parent must be a real directory; `dest` is replaced, never written through.
    await realDirs(hostHome, dirname(rel));
    await rm(dest, { recursive: true, force: true });
    // A copy, never a bind: what the agent writes there stays in the run's HOME.
    await cp(source, dest, { recursive: true, dereference: true });
    const st = await lstat(dest);
    if (st.isFile()) await chmod(dest, 0o600);
  }
}

/** Makes `rel`'s components under `base` real directories (a symlink or file in the way is removed first). */
async function realDirs(base: string, rel: string): Promise<void> {
  let cur = base;
  for (const part of rel.split("/").filter((p) => p && p !== ".")) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st) await rm(cur, { recursive: true, force: true });
    await mkdir(cur, { mode: 0o700 });
  }
}
