import { dirname } from "node:path";
import { capOutput, type IssueRef, issueKey, resumeArgv, unknownTemplateVariables } from "@forgehand/core";
import { type AgentEvent, DEFAULT_PRICES, type SandboxOptions } from "@forgehand/supervisor";
import { buildAgentEnv } from "./agent-env";
import { fallbackPrompt, isMissingSession, restoreAgentSession, saveAgentSessionState } from "./agent-session";
import { branchCompareUrl, relativeToWorktree } from "./branch-link";
import { classifyAgentFailure, classifyApiError, classifyApiErrorStatus } from "./classify-failure";
import { finishAgentWork } from "./finish-agent-work";
import { publishCheckpoint, resumeAgentWork } from "./publish-checkpoint";
import { planPullRequest } from "./pull-request-stage";
import { remainingLimits } from "./remaining-limits";
import { loadPromptTemplate, renderPrompt } from "./render-prompt";
import type { RunBudget } from "./run-budget";
import { agentSandboxOptions, knownAgentCli } from "./sandbox-spec";
import type { StageContext, StageResult } from "./stage-context";
import { logStageOutput } from "./stage-output-log";
import { retryHint, step } from "./stage-step";
import { loadPromptContext } from "./stage-template-values";
import { waitingText } from "./waiting-text";
import { cloneUrlRefusal } from "./workspace/clone-url-refusal";

export type { StageContext, StageResult, Step } from "./stage-context";

/** stdout lines kept to classify a failure (a 429 is often printed there, not on stderr). */
const TAIL_LINES = 40;

function describeTool(tool: { name: string; input: string }): string {
  const input = tool.input.replace(/\s+/g, " ").trim();
  return input ? `${tool.name} ${input.slice(0, 80)}${input.length > 80 ? "…" : ""}` : tool.name;
}

/** Runs one stage: issue → worktree → prompt → agent → gate → commit → push → PR → labels. */
export async function runStage(ctx: StageContext): Promise<StageResult> {
  const { job, stage, config, forge } = ctx;
  const ref: IssueRef = job.ref;
  const agent = config.agents[stage.agent];
  if (!agent) return { state: "failed", reason: `[runner] stage "${stage.name}" names unknown agent "${stage.agent}"` };
  // Before any forge call: a job whose clone URL is not the forge's gets neither a run nor credentials.
  const gitHosts = [...forge.gitHosts, ...config.git.credentialHosts];
  const refused = cloneUrlRefusal(ref.repo.cloneUrl, gitHosts, forge.forge);
  if (refused) return { state: "failed", reason: refused };

  // Before the worktree and the agent: a run over a `budgets:` cap does not start (no spend, no clone).
  const refusal = ctx.budget && (await step("checking spend caps", () => (ctx.budget as RunBudget).refusal()));
  if (refusal && !refusal.ok) return refusal.result;
  if (refusal?.value) return { state: "budget_limit", reason: refusal.value };

  const gotIssue = await step("reading the issue", () => forge.getIssue(ref));
  if (!gotIssue.ok) return gotIssue.result;
  const issue = gotIssue.value;
  ctx.onIssue?.(issue);
  // A PR stage works on the PR's head, read fresh from the forge (pull-request-stage.ts).
  const gotPr = await step("reading the pull request", () => planPullRequest(forge, ref, config));
  if (!gotPr.ok) return gotPr.result;
  const onPr = gotPr.value;
  // A read-only (fork) run never asks for credentials: none exist to reach the workspace, git or the agent.
  const gotCredentials = onPr?.readOnly
    ? { ok: true as const, value: null }
    : await step("asking for git credentials", () => forge.gitCredentials(ref.repo));
  if (!gotCredentials.ok) return gotCredentials.result;
  const credentials = gotCredentials.value && { ...gotCredentials.value, hosts: gitHosts };
  if (onPr)
    ctx.onLog(
      "system",
      `on pull request #${onPr.pr.number}: ${onPr.readOnly ? `fork ${onPr.pr.head.repoFullName ?? "(deleted)"}, read-only (no credentials, nothing pushed)` : `head branch ${onPr.pr.head.ref}`} at ${onPr.pr.head.sha}`,
    );
  // The sandbox of the agent and its gate; `sandbox: { enabled: false }` is the only way to run without one.
  let sandbox: SandboxOptions | undefined;
  let gateSandbox: SandboxOptions | undefined;
  try {
    const input = {
      agent,
      limits: stage.limits,
      ref,
      runId: job.runId,
      dataDir: ctx.dataDir ?? dirname(ctx.registryDir),
      configDir: ctx.configDir,
      runnerHome: ctx.env.HOME,
    };
    sandbox = agentSandboxOptions(input, "agent");
    gateSandbox = agentSandboxOptions(input, "gate");
  } catch (error) {
    return { state: "failed", reason: `[runner] cannot sandbox agent "${stage.agent}": ${(error as Error).message}` };
  }
  // Before prepare (which resets the worktree): an earlier attempt's finished agent is published, not run again.
  if (ctx.checkpoint) {
    const cp = ctx.checkpoint;
    const resumed = cp.pending
      ? await resumeAgentWork(ctx, cp, {
          issue,
          credentials,
          ...(onPr ? { onPr } : {}),
          ...(gateSandbox ? { gateSandbox } : {}),
          runInfo: {
            runId: job.runId,
            repo: ref.repo.fullName,
            issue: ref.number,
            stage: stage.name,
            worktree: cp.worktree,
          },
        })
      : await publishCheckpoint(ctx, { issue, credentials, ...(onPr ? { pullRequest: onPr } : {}), checkpoint: cp });
    if (resumed) return resumed;
  }
  const gotWs = await step("preparing the worktree", () =>
    ctx.workspaces.prepare({
      repo: ref.repo,
      issue: ref.number,
      title: ctx.redact(issue.title),
      credentials,
      ...(onPr ? { pullRequest: onPr.head } : {}),
    }),
  );
  if (!gotWs.ok) return gotWs.result;
  const ws = gotWs.value;
  if (ws.credentialsWithheld) ctx.onLog("system", ws.credentialsWithheld);
  const branchUrl = branchCompareUrl(ref.repo.cloneUrl, ws.baseBranch, ws.branch);
  ctx.onProgress({ branch: ws.branch, ...(branchUrl ? { branchUrl } : {}) });

  const template = await step("loading the prompt", () => loadPromptTemplate(stage, ctx.configDir));
  if (!template.ok) return template.result;
  // Checked at config load too; the file may have changed since, and braces must not reach the agent.
  const unknown = unknownTemplateVariables(
    template.value,
    config.stages.map((s) => s.name),
  );
  if (unknown.length)
    return {
      state: "failed",
      reason: `[runner] the prompt of stage "${stage.name}" uses unknown template variables: ${unknown.map((n) => `{{${n}}}`).join(", ")}`,
    };
  const context = await step("reading the prompt's variables", () => loadPromptContext(ctx, template.value, issue));
  if (!context.ok) return context.result;
  const prompt = renderPrompt(template.value, {
    issue,
    repo: ref.repo.fullName,
    stage: stage.name,
    branch: ws.branch,
    context: context.value,
  });
  const runInfo = {
    runId: job.runId,
    repo: ref.repo.fullName,
    issue: ref.number,
    stage: stage.name,
    worktree: ws.worktree,
  };
  // The id came from the agent's own output: validated, and joined as `--resume=<id>` so it is never a flag.
  let resume: string[] = [];
  if (job.resumeSessionId && agent.resumeArgs) {
    try {
      resume = resumeArgv(agent.resumeArgs, job.resumeSessionId);
    } catch (error) {
      return { state: "failed", reason: (error as Error).message };
    }
  }

  ctx.onProgress({ sandboxed: sandbox !== undefined });
  if (!sandbox) ctx.onLog("system", `⚠ unsandboxed: agent "${stage.agent}" has sandbox.enabled: false`);

  const spent = ctx.spent ?? { turns: 0, costUsd: 0 };
  const limits = remainingLimits(stage.limits, spent);
  if ("exhausted" in limits) return { state: limits.exhausted.state, reason: limits.exhausted.reason };

  // Any runner may take a /retry: the session saved after the last attempt is restored into this HOME.
  const identity = sandbox?.identity;
  const place = {
    cli: knownAgentCli(agent.command),
    issue: issueKey(ref),
    home: sandbox ? sandbox.homeDir : ctx.env.HOME,
    worktree: ws.worktree,
    owner: identity?.runnerIsRoot ? { uid: identity.uid, gid: identity.gid } : undefined,
  };
  const restored =
    resume.length > 0 && job.resumeSessionId
      ? await restoreAgentSession(ctx.shared, place, job.resumeSessionId, ctx.onLog)
      : {};

  const actions: string[] = [];
  const tail: string[] = [];
  let shownWaiting = "";
  // The agent's work is done: recorded before the sweep, the gate and the commit, so a runner that dies from here on
  // costs a re-picked job (on this host, with this worktree) the gate and the publishing, never a second agent run.
  let pendingSaved = false;
  const savePending = async (resultText: string | undefined) => {
    const text = resultText?.trim() ? resultText : undefined;
    const head = await ctx.workspaces.head?.(ws.worktree).catch(() => undefined);
    await ctx.saveCheckpoint?.({
      at: Date.now(),
      ...(head ? { head } : {}),
      committed: false,
      pending: true,
      worktree: ws.worktree,
      branch: ws.branch,
      baseBranch: ws.baseBranch,
      ...(text ? { output: ctx.redact(capOutput(text)) } : {}),
      done: [],
    });
    pendingSaved = true;
  };
  const runAgent = (resumeArgs: string[], text: string) =>
    ctx.supervise({
      command: [...agent.command, ...resumeArgs],
      cwd: ws.worktree,
      env: buildAgentEnv(agent.env, ctx.env, runInfo),
      prompt: { via: agent.promptVia, text },
      parser: agent.parser,
      ...(agent.model ? { model: agent.model } : {}),
      limits,
      killGraceMs: config.runner.killGrace,
      signal: ctx.signal,
      ...(ctx.budget ? { budgetSignal: ctx.budget.signal } : {}),
      registryDir: ctx.registryDir,
      runId: job.runId,
      ...(sandbox ? { sandbox } : {}),
      // Config prices override the built-in list; an empty `prices:` must not turn every estimate into $0.
      prices: { ...DEFAULT_PRICES, ...config.prices },
      onCleanExit: savePending,
      onEvent(event: AgentEvent) {
        const waiting = waitingText(event, Date.now());
        if (waiting !== undefined && waiting !== shownWaiting) {
          shownWaiting = waiting;
          ctx.onProgress({ waiting });
        }
        if (event.type === "assistant" && event.tools.length) {
          actions.push(...event.tools.map((t) => relativeToWorktree(describeTool(t), ws.worktree)));
          actions.splice(0, Math.max(0, actions.length - config.status.actions));
          ctx.onProgress({ lastActions: [...actions] });
        } else if (event.type === "session") ctx.onProgress({ sessionId: event.sessionId });
      },
      onProgress(p) {
        ctx.budget?.track(p.costUsd);
        ctx.onProgress({
          turns: spent.turns + p.turns,
          costUsd: spent.costUsd + p.costUsd,
          costEstimated: p.costEstimated === true,
          ...(p.sessionId ? { sessionId: p.sessionId } : {}),
        });
      },
      onLog(stream, line) {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        ctx.onLog(stream, line);
      },
    });
  let outcome = await runAgent(resume, prompt);
  // A session no store could bring back is not the run's failure: once, a fresh session with the earlier output.
  if (resume.length > 0 && isMissingSession(outcome) && !ctx.signal.aborted) {
    ctx.onLog("system", "the agent could not resume its earlier session; starting a fresh session with its output");
    tail.length = 0;
    outcome = await runAgent([], fallbackPrompt(prompt, restored.previousOutput));
  }
  await saveAgentSessionState(ctx.shared, place, outcome, ctx.onLog);
  await ctx.budget?.finish(outcome.costUsd);
  ctx.onProgress({
    turns: spent.turns + outcome.turns,
    costUsd: spent.costUsd + outcome.costUsd,
    // The CLI's own figure replaced the estimate, or (a run stopped before the CLI reported) the estimate is it.
    costEstimated: outcome.costEstimated === true,
    ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
  });
  const output = outcome.resultText?.trim() ? outcome.resultText : undefined;
  if (output) {
    ctx.onProgress({ output: capOutput(output) });
    logStageOutput(ctx.onLog, output);
  }

  if (outcome.reason !== "succeeded") {
    if (outcome.reason === "failed") {
      const text = [outcome.stderrTail, ...tail, outcome.resultText ?? ""].join("\n");
      const byStatus = classifyApiErrorStatus(outcome.apiErrorStatus);
      const byText = classifyAgentFailure(text);
      // The agent's own typed API failure first (codex, gemini), then the stream's HTTP status (Claude), then a
      // regex over its output for CLIs that report neither; a Retry-After is still read from the text.
      const cls = outcome.apiError
        ? classifyApiError(outcome.apiError)
        : byStatus && byText.kind === "transient" && byText.retryAfterMs
          ? { ...byStatus, retryAfterMs: byText.retryAfterMs }
          : (byStatus ?? byText);
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

  // Usually saved already, the moment the agent exited (onCleanExit); a result read only after the exit lands here.
  if (!pendingSaved) await savePending(output);
  return finishAgentWork(ctx, {
    issue,
    ws,
    credentials,
    ...(onPr ? { onPr } : {}),
    ...(output ? { output } : {}),
    outcome,
    ...(gateSandbox ? { gateSandbox } : {}),
    runInfo,
  });
}
