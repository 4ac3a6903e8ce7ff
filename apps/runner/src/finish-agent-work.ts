import { capOutput, type GitCredentials } from "@forgehand/core";
import type { ForgeIssue } from "@forgehand/forge";
import type { RunOutcome, SandboxOptions } from "@forgehand/supervisor";
import { buildAgentEnv, type RunEnvInfo } from "./agent-env";
import { commitMessage } from "./commit-message";
import { publishResult } from "./publish-result";
import type { PullRequestPlan } from "./pull-request-stage";
import type { StageContext, StageResult } from "./stage-context";
import { step } from "./stage-step";

/** The gate gets the stage timeout, or 30 minutes. */
const DEFAULT_GATE_TIMEOUT_MS = 30 * 60_000;

/** What a succeeded agent left, for the gate, the commit and publishing. */
export interface AgentWork {
  issue: ForgeIssue;
  ws: { worktree: string; branch: string; baseBranch: string };
  credentials: GitCredentials | null;
  onPr?: PullRequestPlan;
  output?: string;
  /** The agent's outcome; absent when an earlier attempt's agent did the work (resumed from its checkpoint). */
  outcome?: RunOutcome;
  gateSandbox?: SandboxOptions;
  runInfo: RunEnvInfo;
}

/**
 * After the agent succeeded: gate → commit → checkpoint → push → PR → labels. Shared by a run whose agent just
 * ended and by a re-picked job whose earlier attempt's agent ended before its work was committed.
 */
export async function finishAgentWork(ctx: StageContext, work: AgentWork): Promise<StageResult> {
  const { stage, logger, job } = ctx;
  const ref = job.ref;
  const { issue, ws, credentials, onPr, output, outcome, gateSandbox, runInfo } = work;
  if (stage.gate) {
    const gate = await step("running the gate", () =>
      ctx.runGate(stage.gate as string[], ws.worktree, {
        timeoutMs: stage.limits.timeout ?? DEFAULT_GATE_TIMEOUT_MS,
        env: buildAgentEnv({}, ctx.env, runInfo),
        signal: ctx.signal,
        registry: { dir: ctx.registryDir, runId: job.runId },
        ...(gateSandbox ? { sandbox: gateSandbox } : {}),
        onSystemLog: (line: string) => ctx.onLog("system", `gate: ${line}`),
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

  // Read-only: what the agent changed stays in the worktree (reset by the next prepare), never committed.
  const committed = onPr?.readOnly
    ? { ok: true as const, value: { committed: false } }
    : await step("committing the result", () =>
        ctx.workspaces.commitAll(ws.worktree, ctx.redact(commitMessage(stage.name, ref.number, issue.title))),
      );
  if (!committed.ok) return { state: "failed", reason: committed.result.reason ?? "committing failed", outcome };
  // The agent's work is done and committed: recorded before the first forge write, so a runner that dies
  // from here on costs a re-picked job only the publishing, never a second agent run (publish-checkpoint.ts).
  // commitAll names the commit it made; only an unchanged worktree needs its HEAD read.
  const head = committed.value.sha ?? (await ctx.workspaces.head?.(ws.worktree));
  const checkpoint = {
    at: Date.now(),
    ...(head ? { head } : {}),
    committed: committed.value.committed,
    worktree: ws.worktree,
    branch: ws.branch,
    baseBranch: ws.baseBranch,
    ...(output ? { output: ctx.redact(capOutput(output)) } : {}),
    done: [],
  };
  await ctx.saveCheckpoint?.(checkpoint);
  const published = await publishResult(ctx, {
    issue,
    ws,
    credentials,
    commit: committed.value,
    ...(onPr ? { pullRequest: onPr } : {}),
    output,
    onStepDone: async (done) => ctx.saveCheckpoint?.({ ...checkpoint, done: [...done] }),
  });
  if (!published.ok) return { ...published.result, outcome };
  const { prUrl } = published.value;
  logger.info("stage succeeded", { prUrl });
  return { state: "succeeded", outcome, ...(prUrl ? { prUrl } : {}), ...(output ? { output } : {}) };
}
