import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A bare git repository standing in for the forge's git remote. */
export interface BareOrigin {
  path: string;
  /** `git --git-dir <origin> <args>` stdout, or throws with stderr. */
  git(...args: string[]): string;
  /** Branch names on the origin. */
  branches(): string[];
  /** A file's content on a branch, or undefined when absent. */
  show(branch: string, file: string): string | undefined;
}

const ID = ["-c", "user.name=Origin", "-c", "user.email=origin@example.test", "-c", "core.hooksPath=/dev/null"];

function git(cwd: string | undefined, args: string[]): string {
  const out = spawnSync("git", [...ID, ...args], { cwd, encoding: "utf8" });
  if (out.status !== 0) throw new Error(`[test] git ${args.join(" ")} failed: ${out.stderr.trim()}`);
  return out.stdout.trim();
}

/** Creates `<dir>/origin.git` whose `main` holds `files` (default: a README). */
export function createBareOrigin(
  dir: string,
  files: Record<string, string> = { "README.md": "# widgets\n" },
): BareOrigin {
  const path = join(dir, "origin.git");
  git(undefined, ["init", "-q", "--bare", "--initial-branch=main", path]);
  const scratch = mkdtempSync(join(dir, "seed-"));
  git(scratch, ["init", "-q", "--initial-branch=main"]);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(scratch, file), content);
  git(scratch, ["add", "--all"]);
  git(scratch, ["commit", "-q", "-m", "initial"]);
  git(scratch, ["push", "-q", path, "HEAD:refs/heads/main"]);
  const bare = (...args: string[]) => git(undefined, ["--git-dir", path, ...args]);
  return {
    path,
    git: bare,
    branches: () => bare("for-each-ref", "--format=%(refname:short)", "refs/heads").split("\n").filter(Boolean),
    show(branch, file) {
      try {
        return bare("show", `${branch}:${file}`);
      } catch {
        return undefined;
      }
    },
  };
}
