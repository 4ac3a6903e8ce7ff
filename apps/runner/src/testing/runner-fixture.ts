import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { type Config, parseConfig, type RepoRef } from "@forgehand/core";
import type { StageWorkspaces } from "../ports";

/** Absolute path of the fixture agent program. */
export const FIXTURE_AGENT = resolve(import.meta.dirname, "../../fixtures/agent.mjs");

/** A config with one `lines` agent running the fixture, stages `develop` → `review`. */
export function fixtureConfig(
  agentEnv: Record<string, string>,
  over: {
    gate?: string[];
    openPullRequest?: boolean;
    runner?: Record<string, unknown>;
    limits?: Record<string, unknown>;
    /** Merged into the agent's `sandbox` (`{ enabled: false }` runs it unsandboxed). */
    sandbox?: Record<string, unknown>;
  } = {},
): Config {
  return parseConfig(
    {
      agents: {
        fixture: {
          command: [process.execPath, FIXTURE_AGENT],
          parser: "lines",
          env: agentEnv,
          sandbox: { writable: fixtureWritableDirs(agentEnv), ...over.sandbox },
        },
      },
      stages: [
        {
          name: "develop",
          label: "agent:develop",
          agent: "fixture",
          prompt: "inline:Fix {{issue.title}} in {{repo}} (#{{issue.number}}) on {{branch}}:\n{{issue.body}}",
          limits: over.limits ?? { timeout: "60s" },
          next: "review",
          ...(over.gate ? { gate: over.gate } : {}),
          ...(over.openPullRequest ? { openPullRequest: true } : {}),
        },
        { name: "review", label: "agent:review", agent: "fixture", prompt: "inline:review" },
      ],
      runner: { killGrace: "500ms", retryBackoff: "200ms", ...over.runner },
      status: { interval: "100ms" },
    },
    {},
  ).config;
}

/**
 * The fixture agent runs sandboxed (the default): the files its env names (FIXTURE_LOG, FIXTURE_COUNT, …) live in
 * test dirs outside the worktree, so those dirs become `sandbox.writable`, and writable by the agent uid.
 */
export function fixtureWritableDirs(agentEnv: Record<string, string>): string[] {
  const dirs = new Set<string>();
  for (const value of Object.values(agentEnv)) {
    if (!isAbsolute(value)) continue;
    const dir = dirname(value);
    if (dir === "/" || !existsSync(dir) || !statSync(dir).isDirectory()) continue;
    dirs.add(dir);
  }
  for (const dir of dirs) if (process.getuid?.() === 0) chmodSync(dir, 0o777);
  return [...dirs];
}

/** A repository reference for tests. */
export function fixtureRepo(cloneUrl = "file:///nonexistent"): RepoRef {
  return { forge: "github", fullName: "acme/app", owner: "acme", name: "app", cloneUrl, defaultBranch: "main" };
}

/** A workspace that is just a directory per issue (no git): for tests about queueing, not publishing. */
export function directoryWorkspaces(root: string): StageWorkspaces & { commits: string[]; pushes: string[] } {
  const commits: string[] = [];
  const pushes: string[] = [];
  return {
    commits,
    pushes,
    async prepare({ issue }) {
      const worktree = join(root, `issue-${issue}`);
      mkdirSync(worktree, { recursive: true });
      const baseSha = "0".repeat(40);
      return {
        worktree,
        branch: `forgehand/${issue}-test`,
        baseBranch: "main",
        baseSha,
        startSha: baseSha,
        continued: false,
      };
    },
    async commitAll(worktree, message) {
      commits.push(`${worktree}: ${message.split("\n")[0]}`);
      return { committed: false };
    },
    async push(_worktree, branch) {
      pushes.push(branch);
    },
  };
}
