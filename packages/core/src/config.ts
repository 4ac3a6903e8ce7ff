import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { BudgetsConfig } from "./budgets-config";
import { checkPromptTemplates } from "./check-prompt-templates";
import { Duration } from "./duration";
import { ConfigError } from "./errors";
import { normaliseGitHost } from "./git-host";
import { interpolateEnv } from "./interpolate";
import { PricesConfig } from "./prices-config";
import { PullRequestsConfig } from "./pull-request-config";
import { AgentSandbox, ByteSize, defaultAgentSandbox } from "./sandbox-config";
import { StageOutputMode } from "./stage-output";
import { checkUnenforceableLimits } from "./unenforceable-limits";

/** A git host as an origin (`git.example.com:8443` → `https://git.example.com:8443`); see `normaliseGitHost`. */
const GitHost = z.string().transform((value, ctx) => {
  try {
    return normaliseGitHost(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

/** Forge permission levels, lowest to highest (GitHub role names; Gitea maps onto them). */
export const Permission = z.enum(["none", "read", "triage", "write", "maintain", "admin"]);
export type Permission = z.infer<typeof Permission>;

/** Hard limits for one stage run; all optional, all enforced at once by the supervisor's watchdog. */
export const Limits = z
  .object({
    timeout: Duration.optional(),
    stall: Duration.optional(),
    maxTurns: z.number().int().positive().optional(),
    maxBudgetUsd: z.number().positive().optional(),
    /** memory.max of the run's cgroup (`2g`, bytes); applied where the host delegates the memory controller. */
    memory: ByteSize.optional(),
    /** pids.max of the run's cgroup; applied where the host delegates the pids controller. */
    pids: z.number().int().positive().optional(),
  })
  .strict();
export type Limits = z.infer<typeof Limits>;

/** How to run one agent CLI. `command` is an argv array: it never passes through a shell. */
export const Agent = z
  .object({
    command: z.array(z.string().min(1)).min(1, "needs at least the program name"),
    parser: z.enum(["claude-stream-json", "codex-json", "gemini-stream-json", "lines"]).default("lines"),
    /** The model, for cost and the status comment, when neither the stream nor argv `-m`/`--model` names it. */
    model: z.string().min(1).max(200).optional(),
    env: z.record(z.string(), z.string()).default({}),
    /** Where the prompt goes: the agent's stdin, or a file whose path is appended as the last argument. */
    promptVia: z.enum(["stdin", "file"]).default("stdin"),
    /** Extra argv used by /retry to resume a session; `{sessionId}` is replaced. Claude: [--resume, "{sessionId}"]; codex: [resume, "{sessionId}", "-"]. */
    resumeArgs: z.array(z.string()).optional(),
    /** The sandbox of this agent and of the gates of its stages; on unless `enabled: false`. */
    sandbox: AgentSandbox.default(defaultAgentSandbox),
  })
  .strict();
export type Agent = z.infer<typeof Agent>;

const LABEL = z.string().min(1).max(50, "forge labels are at most 50 characters");

export const Stage = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, "use letters, digits, - and _"),
    label: LABEL,
    agent: z.string().min(1),
    /** Path of a prompt template (relative to the config file), or `inline:` followed by the template. */
    prompt: z.string().min(1),
    limits: Limits.default({}),
    next: z.string().optional(),
    gate: z.array(z.string().min(1)).min(1).optional(),
    openPullRequest: z.boolean().default(false),
    /** Where the agent's final message is posted (stage-output.ts); `review`: a PR review (publish-result.ts). */
    output: StageOutputMode.default("summary"),
    /** Permissions whose holders may start this stage by label; absent: `commands.allow`. */
    allow: z.array(Permission).min(1).optional(),
  })
  .strict();
export type Stage = z.infer<typeof Stage>;

export const Config = z
  .object({
    agents: z.record(z.string(), Agent).refine((a) => Object.keys(a).length > 0, "define at least one agent"),
    stages: z.array(Stage).min(1, "define at least one stage"),
    commands: z
      .object({
        allow: z.array(Permission).default(["write", "maintain", "admin"]),
        /** Logins allowed whatever their forge permission (e.g. a trusted bot). */
        allowUsers: z.array(z.string()).default([]),
        /** How long a permission answer from the forge is trusted. */
        permissionCacheTtl: Duration.default(60_000),
      })
      .strict()
      .default({ allow: ["write", "maintain", "admin"], allowUsers: [], permissionCacheTtl: 60_000 }),
    runner: z
      .object({
        concurrency: z.number().int().positive().default(4),
        killGrace: Duration.default(5_000),
        /** On SIGTERM, how long running agents may finish before they are stopped and re-queued. */
        shutdownGrace: Duration.default(30_000),
        /** How many times a transient failure (429/529/network/forge 5xx) is retried. */
        transientRetries: z.number().int().min(0).default(3),
        /** First backoff for transient retries; doubles each time, never below the agent's Retry-After. */
        retryBackoff: Duration.default(10_000),
        /** Worktrees of issues no run used for this long are deleted (hourly sweep); 0 keeps them forever. */
        worktreeRetention: Duration.default(7 * 86_400_000),
      })
      .strict()
      .default({
        concurrency: 4,
        killGrace: 5_000,
        shutdownGrace: 30_000,
        transientRetries: 3,
        retryBackoff: 10_000,
        worktreeRetention: 7 * 86_400_000,
      }),
    status: z
      .object({
        /** Minimum time between two edits of a running status comment. */
        interval: Duration.default(10_000),
        /** How many recent agent actions the comment lists. */
        actions: z.number().int().min(0).max(50).default(8),
        /** Public base URL of the webhook app, used to link the run log. */
        publicUrl: z.string().url().optional(),
        /** How long the signed run-page link in a status comment opens the run (`/runs/:id?exp=…&sig=…`). */
        linkTtl: Duration.default(7 * 86_400_000),
      })
      .strict()
      .default({ interval: 10_000, actions: 8, linkTtl: 7 * 86_400_000 }),
    git: z
      .object({
        authorName: z.string().default("forgehand"),
        authorEmail: z.string().default("forgehand@users.noreply.local"),
        branchPrefix: z.string().default("forgehand/"),
        /** Hosts besides the forge's own (`github.com`/GHES, `GITEA_URL`) whose clone URLs get the forge's token. */
        credentialHosts: z.array(GitHost).default([]),
      })
      .strict()
      .default({
        authorName: "forgehand",
        authorEmail: "forgehand@users.noreply.local",
        branchPrefix: "forgehand/",
        credentialHosts: [],
      }),
    /** Repositories forgehand acts on (`owner/name` or `owner/*`, case-insensitive); absent: every repository whose hook reaches it. */
    repos: z
      .array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, "use owner/name or owner/*"))
      .min(1)
      .optional(),
    webhook: z
      .object({
        /** Total bytes of request bodies read at once; beyond it deliveries get 503 + Retry-After. */
        maxInFlightBytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024 * 1024),
        /** How long one request body may take to arrive. */
        bodyTimeout: Duration.default(10_000),
      })
      .strict()
      .default({ maxInFlightBytes: 64 * 1024 * 1024, bodyTimeout: 10_000 }),
    /** USD per million tokens, per model id prefix, to estimate cost while a run is live (see prices-config.ts). */
    prices: PricesConfig,
    /** Spend caps per issue, per repository per UTC day and per installation per UTC day (see budgets-config.ts). */
    budgets: BudgetsConfig,
    /** Stages started on pull requests (fork policy). */
    pullRequests: PullRequestsConfig,
    labels: z
      .object({ failed: LABEL.default("forgehand:failed") })
      .strict()
      .default({ failed: "forgehand:failed" }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const names = new Set<string>();
    const labels = new Set<string>();
    cfg.stages.forEach((stage, i) => {
      if (names.has(stage.name))
        ctx.addIssue({ code: "custom", path: ["stages", i, "name"], message: `duplicate stage name "${stage.name}"` });
      if (labels.has(stage.label))
        ctx.addIssue({
          code: "custom",
          path: ["stages", i, "label"],
          message: `label "${stage.label}" is used by two stages`,
        });
      names.add(stage.name);
      labels.add(stage.label);
      if (!cfg.agents[stage.agent])
        ctx.addIssue({
          code: "custom",
          path: ["stages", i, "agent"],
          message: `unknown agent "${stage.agent}" (defined: ${Object.keys(cfg.agents).join(", ") || "none"})`,
        });
    });
    cfg.stages.forEach((stage, i) => {
      if (stage.next && !names.has(stage.next))
        ctx.addIssue({ code: "custom", path: ["stages", i, "next"], message: `unknown stage "${stage.next}"` });
    });
    checkUnenforceableLimits(cfg.stages, cfg.agents, ctx);
  });
export type Config = z.infer<typeof Config>;

/** A loaded configuration plus where it came from and what it referenced but did not find. */
export interface LoadedConfig {
  config: Config;
  path: string;
  /** Directory that relative prompt paths are resolved against. */
  baseDir: string;
  missingEnv: { path: string; name: string }[];
}

/** Formats zod issues as `path: reason` lines. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): { path: string; message: string }[] {
  return issues.map((issue) => ({
    path: issue.path.length
      ? issue.path
          .map((p) => (typeof p === "number" ? `[${p}]` : String(p)))
          .join(".")
          .replace(/\.\[/g, "[")
      : "(root)",
    message: issue.message,
  }));
}

/** Validates an already-parsed document; throws ConfigError naming every bad field. */
export function parseConfig(
  doc: unknown,
  env: Record<string, string | undefined> = process.env,
  source = "forgehand.yml",
) {
  const { value, missing } = interpolateEnv(doc ?? {}, env);
  const result = Config.safeParse(value);
  if (!result.success) {
    const issues = formatIssues(result.error.issues);
    throw new ConfigError(
      `[config] ${source} is invalid:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n")}`,
      issues,
    );
  }
  return { config: result.data, missingEnv: missing };
}

/** Reads, interpolates and validates a YAML config file. */
export function loadConfigFile(path: string, env: Record<string, string | undefined> = process.env): LoadedConfig {
  const abs = isAbsolute(path) ? path : resolve(path);
  if (!existsSync(abs))
    throw new ConfigError(`[config] ${abs} does not exist`, [{ path: "(file)", message: "not found" }]);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(abs, "utf8"));
  } catch (error) {
    throw new ConfigError(`[config] ${abs} is not valid YAML: ${(error as Error).message}`, [], { cause: error });
  }
  const { config, missingEnv } = parseConfig(doc, env, abs);
  checkPromptTemplates(config.stages, dirname(abs), abs);
  return { config, path: abs, baseDir: dirname(abs), missingEnv };
}

/** Finds a stage by the label that starts it. */
export function stageForLabel(config: Config, label: string): Stage | undefined {
  return config.stages.find((s) => s.label === label);
}
