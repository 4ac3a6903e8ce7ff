import {
  type Config,
  formatDuration,
  type IssueRef,
  type Logger,
  type RunRecord,
  type RunState,
  type Stage,
} from "@forgehand/core";
import type { ForgeClient, ForgeIssue } from "@forgehand/forge";
import type { LogStream, StageJob } from "@forgehand/queue";
import { type AgentEvent, DEFAULT_PRICES, type RunOutcome, type SuperviseOptions } from "@forgehand/supervisor";
import { buildAgentEnv } from "./agent-env";
import { classifyAgentFailure, classifyError, type FailureClass } from "./classify-failure";
import type { GitCredentials, RunGateFn, SuperviseFn, Workspaces } from "./ports";
import { loadPromptTemplate, renderPrompt } from "./render-prompt";
import { retryInPlace } from "./retry-in-place";

/** Everything one stage run needs; the caller owns the lease, the record and retries. */
export interface StageContext {
  job: StageJob;
  stage: Stage;
  config: Config;
  configDir: string;
  forge: ForgeClient;
  workspaces: Workspaces;
  supervise: SuperviseFn;
  runGate: RunGateFn;
  registryDir: string;
  env: NodeJS.ProcessEnv;
  /** Aborted by /stop, shutdown or a lost lease; the supervisor then kills the agent (verified). */
  signal: AbortSignal;
  logger: Logger;
  /** Live counters and facts for the run record and status comment. */
  onProgress(patch: Partial<RunRecord>): void;
  onLog(stream: LogStream, line: string): void;
  /** Called once the issue is read, before any slow step. */
  onIssue?(issue: ForgeIssue): void;
  /**
   * What earlier attempts of this run used (a transient retry, a lease lost, a shutdown): `maxTurns` and
   * `maxBudgetUsd` hold for the whole run, so retries cannot multiply the budget, and the record shows the total.
   */
  spent?: { turns: number; costUsd: number };
}

/** How a stage run ended. `transient` means the caller may retry it with backoff. */
export interface StageResult {
  state: RunState;
  reason?: string;
  transient?: { why: string; retryAfterMs?: number };
  prUrl?: string;
  outcome?: RunOutcome;
}

/** Stage limits and gate: the gate gets the stage timeout, or 30 minutes. */
const DEFAULT_GATE_TIMEOUT_MS = 30 * 60_000;
/** stdout lines kept to classify a failure (a 429 is often printed there, not on stderr). */
const TAIL_LINES = 40;

function describeTool(tool: { name: string; input: string }): string {
  const input = tool.input.replace(/\s+/g, " ").trim();
  return input ? `${tool.name} ${input.slice(0, 80)}${input.length > 80 ? "…" : ""}` : tool.name;
}

/** What the caller's retry needs from a transient failure; `retryAfterMs` only when the failure named one. */
function retryHint(cls: Extract<FailureClass, { kind: "transient" }>): NonNullable<StageResult["transient"]> {
  return { why: cls.why, ...(cls.retryAfterMs ? { retryAfterMs: cls.retryAfterMs } : {}) };
}

/** A slow step's value, or the result that ends the stage when it threw. */
type Step<T> = { ok: true; value: T } | { ok: false; result: StageResult };

async function step<T>(what: string, fn: () => Promise<T>): Promise<Step<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    const cls = classifyError(error);
    const reason = `${what} failed: ${(error as Error).message ?? String(error)}`;
    if (cls.kind === "permanent") return { ok: false, result: { state: "failed", reason } };
    return { ok: false, result: { state: "failed", reason, transient: retryHint(cls) } };
  }
}

/** What publishing needs from the stage run: the worktree, its branch and the agent's commit. */
interface PublishInput {
  issue: ForgeIssue;
  ws: { worktree: string; branch: string; baseBranch: string };
  credentials: GitCredentials;
  commit: { committed: boolean; sha?: string };
}

/**
 * Push → PR → labels, retried in place on transient failures while the run still holds the issue: the
 * commit exists only in this worktree, and a queue retry would reset it and run the agent again. A retry
 * skips the steps already done; each is also safe to repeat (force-with-lease on the start tip,
 * find-or-create PR, label removal ignores a label that is gone).
 */
async function publishResult(ctx: StageContext, input: PublishInput): Promise<Step<{ prUrl?: string }>> {
  const { job, stage, config, forge } = ctx;
  const { ref } = job;
  const { ws, commit, issue } = input;
  const next = stage.next ? config.stages.find((s) => s.name === stage.next) : undefined;
  const done = new Set<string>();
  let doing = "";
  let prUrl: string | undefined;
  const once = async (what: string, fn: () => Promise<void>) => {
    if (done.has(what)) return;
    doing = what;
    await fn();
    done.add(what);
  };
  const pushing = `pushing ${ws.branch}`;
  const result = await retryInPlace(
    async () => {
      if (commit.committed || stage.openPullRequest)
        await once(pushing, async () => {
          await ctx.workspaces.push(ws.worktree, ws.branch, ref.repo, input.credentials);
          ctx.onLog("system", `pushed ${ws.branch}${commit.sha ? ` at ${commit.sha}` : ""}`);
        });
      if (stage.openPullRequest)
        await once("opening the pull request", async () => {
          const pr = await forge.findOrCreatePullRequest(ref.repo, {
            head: ws.branch,
            base: ws.baseBranch,
            title: issue.title,
            body: `Closes #${ref.number}\n\nOpened by forgehand, stage \`${stage.name}\` (run ${job.runId}).`,
          });
          prUrl = pr.url;
        });
      await once(`removing label ${stage.label}`, () => forge.removeLabel(ref, stage.label));
      if (next) await once(`adding label ${next.label}`, () => forge.addLabels(ref, [next.label]));
      return { prUrl };
    },
    {
      retries: config.runner.transientRetries,
      backoffMs: config.runner.retryBackoff,
      signal: ctx.signal,
      onRetry: (n) =>
        ctx.onLog(
          "system",
          `publishing failed (${doing}: ${n.why}); retry ${n.attempt}/${n.retries} in ${formatDuration(n.delayMs)}`,
        ),
    },
  );
  if (result.ok) return { ok: true, value: result.value };

  // Say where the agent's work is: a failed publish must not read as "the agent's work is gone".
  const kept = done.has(pushing)
    ? `branch \`${ws.branch}\` is pushed`
    : commit.committed
      ? `the work is committed locally on branch \`${ws.branch}\`${commit.sha ? ` (${commit.sha})` : ""} in the runner's worktree, not pushed`
      : `there were no changes to commit on branch \`${ws.branch}\``;
  if (result.aborted) {
    // process-stage-job replaces a stopped run's reason with who stopped it; the log keeps where the work is.
    const reason = `stopped while waiting to retry ${doing}; ${kept}`;
    ctx.onLog("system", reason);
    return { ok: false, result: { state: "stopped", reason } };
  }
  const message = (result.error as Error)?.message ?? String(result.error);
  const tries = result.retries ? ` after ${result.retries} ${result.retries === 1 ? "retry" : "retries"}` : "";
  return {
    ok: false,
    result: { state: "failed", reason: `publishing the result failed while ${doing}${tries}: ${message}; ${kept}` },
  };
}

/** The supervisor's limits for this attempt: turns and budget less what earlier attempts used. */
function remainingLimits(
  limits: Stage["limits"],
  spent: { turns: number; costUsd: number },
): SuperviseOptions["limits"] | { exhausted: { state: RunState; reason: string } } {
  const { maxTurns, maxBudgetUsd } = limits;
  if (maxBudgetUsd !== undefined && spent.costUsd >= maxBudgetUsd)
    return {
      exhausted: {
        state: "budget_limit",
        reason: `budget limit: earlier attempts cost $${spent.costUsd.toFixed(4)} of maxBudgetUsd $${maxBudgetUsd}`,
      },
    };
  if (maxTurns !== undefined && spent.turns >= maxTurns)
    return {
      exhausted: {
        state: "turn_limit",
        reason: `turn limit: earlier attempts used ${spent.turns} of maxTurns ${maxTurns}`,
      },
    };
  return {
    timeoutMs: limits.timeout,
    stallMs: limits.stall,
    maxTurns: maxTurns === undefined ? undefined : maxTurns - spent.turns,
    maxBudgetUsd: maxBudgetUsd === undefined ? undefined : maxBudgetUsd - spent.costUsd,
  };
}

/** Runs one stage: issue → worktree → prompt → agent → gate → commit → push → PR → labels. */
export async function runStage(ctx: StageContext): Promise<StageResult> {
  const { job, stage, config, forge, logger } = ctx;
  const ref: IssueRef = job.ref;
  const agent = config.agents[stage.agent];
  if (!agent) return { state: "failed", reason: `[runner] stage "${stage.name}" names unknown agent "${stage.agent}"` };

  const gotIssue = await step("reading the issue", () => forge.getIssue(ref));
  if (!gotIssue.ok) return gotIssue.result;
  const issue = gotIssue.value;
  ctx.onIssue?.(issue);
  const gotCredentials = await step("asking for git credentials", () => forge.gitCredentials(ref.repo));
  if (!gotCredentials.ok) return gotCredentials.result;
  const credentials = gotCredentials.value;
  const gotWs = await step("preparing the worktree", () =>
    ctx.workspaces.prepare({ repo: ref.repo, issue: ref.number, title: issue.title, credentials }),
  );
  if (!gotWs.ok) return gotWs.result;
  const ws = gotWs.value;
  ctx.onProgress({ branch: ws.branch });

  const template = await step("loading the prompt", () => loadPromptTemplate(stage, ctx.configDir));
  if (!template.ok) return template.result;
  const prompt = renderPrompt(template.value, { issue, repo: ref.repo.fullName, stage: stage.name, branch: ws.branch });
  const runInfo = {
    runId: job.runId,
    repo: ref.repo.fullName,
    issue: ref.number,
    stage: stage.name,
    worktree: ws.worktree,
  };
  const resume =
    job.resumeSessionId && agent.resumeArgs
      ? agent.resumeArgs.map((a) => a.replaceAll("{sessionId}", job.resumeSessionId as string))
      : [];

  const spent = ctx.spent ?? { turns: 0, costUsd: 0 };
  const limits = remainingLimits(stage.limits, spent);
  if ("exhausted" in limits) return { state: limits.exhausted.state, reason: limits.exhausted.reason };

  const actions: string[] = [];
  const tail: string[] = [];
  const outcome = await ctx.supervise({
    command: [...agent.command, ...resume],
    cwd: ws.worktree,
    env: buildAgentEnv(agent.env, ctx.env, runInfo),
    prompt: { via: agent.promptVia, text: prompt },
    parser: agent.parser,
    limits,
    killGraceMs: config.runner.killGrace,
    signal: ctx.signal,
    registryDir: ctx.registryDir,
    runId: job.runId,
    // Config prices override the built-in list; an empty `prices:` must not turn every estimate into $0.
    prices: { ...DEFAULT_PRICES, ...config.prices },
    onEvent(event: AgentEvent) {
      if (event.type === "assistant" && event.tools.length) {
        actions.push(...event.tools.map(describeTool));
        actions.splice(0, Math.max(0, actions.length - config.status.actions));
        ctx.onProgress({ lastActions: [...actions] });
      } else if (event.type === "session") ctx.onProgress({ sessionId: event.sessionId });
    },
    onProgress(p) {
      ctx.onProgress({
        turns: spent.turns + p.turns,
        costUsd: spent.costUsd + p.costUsd,
        ...(p.sessionId ? { sessionId: p.sessionId } : {}),
      });
    },
    onLog(stream, line) {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      ctx.onLog(stream, line);
    },
  });
  ctx.onProgress({
    turns: spent.turns + outcome.turns,
    costUsd: spent.costUsd + outcome.costUsd,
    ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
  });

  if (outcome.reason !== "succeeded") {
    if (outcome.reason === "failed") {
      const text = [outcome.stderrTail, ...tail, outcome.resultText ?? ""].join("\n");
      const cls = classifyAgentFailure(text);
      const reason = `${outcome.detail || cls.why}${outcome.stderrTail ? `\n${outcome.stderrTail.slice(-800)}` : ""}`;
      if (cls.kind === "transient")
        return {
          state: "failed",
          reason,
          outcome,
          transient: retryHint(cls),
        };
      return { state: "failed", reason, outcome };
    }
    const earlier =
      spent.costUsd > 0 || spent.turns > 0
        ? ` (this attempt; earlier attempts used ${spent.turns} turns, $${spent.costUsd.toFixed(4)})`
        : "";
    const counted = outcome.reason === "budget_limit" || outcome.reason === "turn_limit";
    return { state: outcome.reason, reason: `${outcome.detail}${counted ? earlier : ""}`, outcome };
  }

  if (stage.gate) {
    const gate = await step("running the gate", () =>
      ctx.runGate(stage.gate as string[], ws.worktree, {
        timeoutMs: stage.limits.timeout ?? DEFAULT_GATE_TIMEOUT_MS,
        env: buildAgentEnv({}, ctx.env, runInfo),
        signal: ctx.signal,
      }),
    );
    if (!gate.ok) return { state: "failed", reason: gate.result.reason ?? "gate crashed", outcome };
    ctx.onLog("system", `gate ${stage.gate.join(" ")} exited ${gate.value.exitCode}`);
    if (!gate.value.ok)
      return {
        state: "failed",
        reason: `gate \`${stage.gate.join(" ")}\` failed (exit ${gate.value.exitCode}):\n${gate.value.outputTail}`,
        outcome,
      };
  }

  const committed = await step("committing the result", () =>
    ctx.workspaces.commitAll(ws.worktree, `forgehand: ${stage.name} for #${ref.number}\n\n${issue.title}`),
  );
  if (!committed.ok) return { state: "failed", reason: committed.result.reason ?? "committing failed", outcome };
  const published = await publishResult(ctx, { issue, ws, credentials, commit: committed.value });
  if (!published.ok) return { ...published.result, outcome };
  const { prUrl } = published.value;
  logger.info("stage succeeded", { prUrl });
  return { state: "succeeded", outcome, ...(prUrl ? { prUrl } : {}) };
}
