import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { CLAUDE_ARGS, CLAUDE_BIN } from "../../support/model-server/run-claude";

/** One stage of the e2e configuration (the subset of forgehand.yml's `stages[]` the scenarios vary). */
export interface E2eStage {
  name: string;
  /** Which agent runs the stage; @defaultValue "claude" */
  agent?: string;
  label: string;
  prompt?: string;
  limits?: { timeout?: string; stall?: string; maxTurns?: number; maxBudgetUsd?: number };
  next?: string;
  gate?: string[];
  openPullRequest?: boolean;
  output?: "summary" | "comment" | "review";
}

/** The default stage: Claude writes, `test -f hello.txt` gates, a PR is opened. */
export const DEVELOP_STAGE: E2eStage = {
  name: "develop",
  label: "agent:develop",
  gate: ["test", "-f", "hello.txt"],
  openPullRequest: true,
  limits: { timeout: "2m", stall: "60s" },
};

/**
 * Writes a forgehand.yml whose only agent is the real Claude Code CLI pointed at the model server.
 * The agent env is exactly what the CLI needs offline; HOME is the sandbox's per-issue HOME under the data dir.
 */
/** Knobs a scenario may turn besides its stages. */
export interface E2eConfigExtras {
  /** Merged into the claude agent's env. */
  agentEnv?: Record<string, string>;
  /** Merged into `runner:`. */
  runner?: Record<string, unknown>;
  /** Merged into the claude agent's `sandbox:`. */
  sandbox?: Record<string, unknown>;
  /** `pullRequests:` (fork policy). */
  pullRequests?: Record<string, unknown>;
  /** More agents beside `claude` (e.g. `codex` against the OpenAI server), and the one every stage uses. */
  agents?: Record<string, unknown>;
  agent?: string;
  /** Merged into `prices:`. */
  prices?: Record<string, unknown>;
  /** Merged into `status:` (e.g. `publicUrl`, so status comments link the signed run page). */
  status?: Record<string, unknown>;
}

export function writeE2eConfig(
  dir: string,
  modelUrl: string,
  stages: E2eStage[] = [DEVELOP_STAGE],
  extras: E2eConfigExtras = {},
): string {
  const config = {
    agents: {
      claude: {
        command: [CLAUDE_BIN, ...CLAUDE_ARGS],
        parser: "claude-stream-json",
        env: {
          ANTHROPIC_BASE_URL: modelUrl,
          ANTHROPIC_API_KEY: "test",
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
          CLAUDE_CODE_MAX_RETRIES: "2",
          ...extras.agentEnv,
        },
        resumeArgs: ["--resume", "{sessionId}"],
        // The default, spelled out: Claude runs in bwrap as forgehand-agent (root refuses
        // --dangerously-skip-permissions; these flags don't need it). The model server listens on the host's
        // loopback; ANTHROPIC_BASE_URL puts its host:port on the egress allowlist, the proxy is the only way out.
        sandbox: { enabled: true, ...extras.sandbox },
      },
      ...extras.agents,
    },
    stages: stages.map((stage) => ({
      agent: extras.agent ?? "claude",
      prompt: stage.prompt ?? "inline:Work on issue #{{issue.number}}: {{issue.title}}\n\n{{issue.body}}\n",
      ...stage,
    })),
    commands: { allow: ["write", "maintain", "admin"], permissionCacheTtl: "1s" },
    runner: {
      concurrency: 2,
      killGrace: "1s",
      shutdownGrace: "2s",
      transientRetries: 2,
      retryBackoff: "1s",
      ...extras.runner,
    },
    status: { interval: "1s", actions: 5, ...extras.status },
    prices: { "claude-opus-4": { input: 5, output: 25 }, ...extras.prices },
    ...(extras.pullRequests ? { pullRequests: extras.pullRequests } : {}),
  };
  const path = join(dir, "forgehand.yml");
  writeFileSync(path, stringify(config));
  return path;
}
