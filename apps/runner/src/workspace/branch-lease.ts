import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** File in the worktree's private git dir (`WorkspacePaths.gitDir`) holding the remote tip the branch started from (absent: a new branch). */
const LEASE_FILE = "forgehand-lease";

/** Records the remote tip the next push may overwrite; `undefined`: the branch must not exist on the remote. */
export async function writeLease(gitDir: string, sha: string | undefined): Promise<void> {
  const file = join(gitDir, LEASE_FILE);
  if (sha) await writeFile(file, `${sha}\n`);
  else await rm(file, { force: true });
}

/** The remote tip recorded by `writeLease`, if any. */
export async function readLease(gitDir: string): Promise<string | undefined> {
  const file = join(gitDir, LEASE_FILE);
  const sha = (await readFile(file, "utf8").catch(() => "")).trim();
  return /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
}
