import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * `<rootDir>/git-home`: the `HOME` of every git call, private (0700) and emptied when a workspace context
 * starts, so no `.gitconfig`, `.config/git/*` or `.netrc` of the runner's (or anyone's) reaches git.
 * GIT_CONFIG_GLOBAL=/dev/null and `-c core.attributesFile/excludesFile` already make git ignore those files;
 * the empty HOME covers what else a git helper would look up there.
 */
export async function ensureGitHome(rootDir: string): Promise<string> {
  const home = join(rootDir, "git-home");
  await mkdir(home, { recursive: true, mode: 0o700 });
  await chmod(home, 0o700);
  const entries = await readdir(home);
  await Promise.all(entries.map((e) => rm(join(home, e), { recursive: true, force: true })));
  return home;
}
