import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BareOrigin } from "../../helpers/bare-origin";

const ID = ["-c", "user.name=Human", "-c", "user.email=human@example.test", "-c", "core.hooksPath=/dev/null"];

function git(cwd: string, args: string[]): string {
  const out = spawnSync("git", [...ID, ...args], { cwd, encoding: "utf8" });
  if (out.status !== 0) throw new Error(`[e2e] git ${args.join(" ")} failed: ${out.stderr.trim()}`);
  return out.stdout.trim();
}

/**
 * A person's commit of `files` on top of `from` (a ref of the origin), pushed straight into the bare origin as
 * `ref` (`refs/heads/feature`, or `refs/pull/N/head` as a forge writes for a fork PR). Returns its sha.
 */
export function pushToOrigin(
  origin: BareOrigin,
  dir: string,
  o: { ref: string; from: string; files: Record<string, string>; message: string },
): string {
  const scratch = mkdtempSync(join(dir, "human-"));
  try {
    git(scratch, ["init", "-q"]);
    git(scratch, ["fetch", "-q", origin.path, `${o.from}:refs/start`]);
    git(scratch, ["checkout", "-q", "refs/start"]);
    for (const [file, content] of Object.entries(o.files)) writeFileSync(join(scratch, file), content);
    git(scratch, ["add", "--all"]);
    git(scratch, ["commit", "-q", "-m", o.message]);
    git(scratch, ["push", "-q", "--force", origin.path, `HEAD:${o.ref}`]);
    return git(scratch, ["rev-parse", "HEAD"]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
