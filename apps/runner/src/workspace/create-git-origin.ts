import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { exec } from "../testing/exec";

/** A local bare repository standing in for the forge in tests and in `measure-prepare.ts`. */
export interface GitOrigin {
  /** Path of the bare repository (`…/origin.git`), usable as a clone URL. */
  path: string;
  /** Commits `files` on `branch` (created from `from`, default main) and pushes it; returns the new sha. */
  commit(files: Record<string, string>, message: string, branch?: string, from?: string): Promise<string>;
  /** `git --git-dir origin.git <args>` stdout. */
  git(...args: string[]): Promise<string>;
}

const ID = ["-c", "user.name=Origin Tester", "-c", "user.email=origin@example.test", "-c", "core.hooksPath=/dev/null"];

/** Creates `<dir>/origin.git` with `main` holding README.md and .gitignore (ignoring `ignored/`). */
export async function createGitOrigin(dir: string): Promise<GitOrigin> {
  const path = join(dir, "origin.git");
  await exec(["git", "init", "--quiet", "--bare", "--initial-branch=main", path]);
  const scratch = await mkdtemp(join(dir, "scratch-"));
  await exec(["git", "init", "--quiet", "--initial-branch=main", scratch]);
  const git = (cwd: string, args: string[]) =>
    exec(["git", ...ID, ...args], { cwd, env: { ...process.env, GIT_DIR: undefined } });

  async function commit(files: Record<string, string>, message: string, branch = "main", from = "main") {
    await git(scratch, ["fetch", "--quiet", path, "+refs/heads/*:refs/remotes/origin/*"]);
    const start = await git(scratch, ["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${branch}`]).catch(() =>
      git(scratch, ["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${from}`]).catch(() => null),
    );
    if (start) await git(scratch, ["checkout", "--quiet", "--force", "-B", branch, start.stdout.trim()]);
    else await git(scratch, ["checkout", "--quiet", "--orphan", branch]);
    for (const [file, content] of Object.entries(files)) {
      await mkdir(dirname(join(scratch, file)), { recursive: true });
      await writeFile(join(scratch, file), content);
    }
    await git(scratch, ["add", "--all"]);
    await git(scratch, ["commit", "--quiet", "-m", message]);
    await git(scratch, ["push", "--quiet", path, `HEAD:refs/heads/${branch}`]);
    return (await git(scratch, ["rev-parse", "HEAD"])).stdout.trim();
  }

  await commit({ "README.md": "# widgets\n", ".gitignore": "ignored/\n" }, "initial");
  return {
    path,
    commit,
    git: async (...args) => (await exec(["git", "--git-dir", path, ...args])).stdout,
  };
}
