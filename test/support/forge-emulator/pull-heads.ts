import { spawnSync } from "node:child_process";
import type { EmulatedPull, EmulatedRepo, EmulatorState } from "./emulator-state";

/** The git ref a PR's head is read from in the base repository: its branch, or `refs/pull/N/head` for a fork. */
export function headRefOf(pr: EmulatedPull): string {
  return pr.headRepo ? `refs/pull/${pr.number}/head` : `refs/heads/${pr.head}`;
}

/**
 * The PR head's current tip in the bare repository behind the clone URL, as the real forges answer it
 * (GitHub and Gitea both keep `refs/pull/N/head` in the base repository); all zeros without one.
 */
export function headShaOf(state: EmulatorState, repo: EmulatedRepo, pr: EmulatedPull): string {
  const dir = state.gitDirs.get(repo.fullName);
  if (!dir) return "0".repeat(40);
  const out = spawnSync("git", ["--git-dir", dir, "rev-parse", "--verify", "--quiet", `${headRefOf(pr)}^{commit}`], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
  });
  return out.status === 0 ? out.stdout.trim() : "0".repeat(40);
}

/** The repository half of a PR branch: the fork's `owner/name` and owner, or this repository's. */
export function headRepoOf(repo: EmulatedRepo, pr: EmulatedPull): { fullName: string; owner: string; name: string } {
  const fullName = pr.headRepo ?? repo.fullName;
  const [owner = repo.owner, name = repo.name] = fullName.split("/");
  return { fullName, owner, name };
}

/**
 * What the forges answer for a PR's diff: the stored `diff`, else `git diff base...head` (changes since the
 * merge base, as both forges show them) of the bare repository; "" without one.
 */
export function diffOf(state: EmulatorState, repo: EmulatedRepo, pr: EmulatedPull): string {
  if (pr.diff !== undefined) return pr.diff;
  const dir = state.gitDirs.get(repo.fullName);
  if (!dir) return "";
  const out = spawnSync("git", ["--git-dir", dir, "diff", `refs/heads/${pr.base}...${headRefOf(pr)}`, "--"], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (out.status !== 0) throw new Error(`[forge-emulator] git diff for PR #${pr.number} failed: ${out.stderr}`);
  return out.stdout;
}
