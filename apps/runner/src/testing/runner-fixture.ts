import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
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
  } = {},
): Config {
  return parseConfig(
    {
      agents: { fixture: { command: [process.execPath, FIXTURE_AGENT], parser: "lines", env: agentEnv } },
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
