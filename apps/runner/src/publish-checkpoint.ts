import type { GitCredentials, RunCheckpoint } from "@forgehand/core";
import type { ForgeIssue } from "@forgehand/forge";
import { type AgentWork, finishAgentWork } from "./finish-agent-work";
import { publishResult } from "./publish-result";
import type { PullRequestPlan } from "./pull-request-stage";
import type { StageContext, StageResult } from "./stage-context";

/** What publishing an earlier attempt's checkpoint needs that the stage has just read again. */
export interface CheckpointInput {
  issue: ForgeIssue;
  credentials: GitCredentials | null;
  pullRequest?: PullRequestPlan;
  checkpoint: RunCheckpoint;
}

/**
 * An earlier attempt's agent finished and its runner died while publishing: publish what it left, from the
 * same worktree, skipping the steps it recorded as done. Undefined when that is not possible here (the
 * worktree is gone, on another host, or was reset to another commit since): the agent must run again.
 */
export async function publishCheckpoint(ctx: StageContext, input: CheckpointInput): Promise<StageResult | undefined> {
  const { checkpoint: cp } = input;
  const pushed = cp.done.some((d) => d.startsWith("pushing "));
  // Once the branch is on the forge, the rest (PR, review, labels) needs no worktree at all.
  const needsWorktree = !pushed && (cp.committed || (ctx.stage.openPullRequest && !input.pullRequest));
  if (needsWorktree) {
    const head = await ctx.workspaces.head?.(cp.worktree);
    if (!head || head !== cp.head) {
      ctx.onLog(
        "system",
        `the agent finished in an earlier attempt, but its commit ${cp.head ?? "(none)"} is not in this runner's worktree; running the agent again`,
      );
      return undefined;
    }
  }
  ctx.onLog(
    "system",
    `the agent finished in an earlier attempt (${new Date(cp.at).toISOString()}); publishing its work without running it again${cp.done.length ? ` (already done: ${cp.done.join(", ")})` : ""}`,
  );
  const published = await publishResult(ctx, {
    issue: input.issue,
    ws: { worktree: cp.worktree, branch: cp.branch, baseBranch: cp.baseBranch },
    credentials: input.credentials,
    commit: { committed: cp.committed, ...(cp.committed && cp.head ? { sha: cp.head } : {}) },
    ...(input.pullRequest ? { pullRequest: input.pullRequest } : {}),
    output: cp.output,
    done: cp.done,
    onStepDone: async (done) => ctx.saveCheckpoint?.({ ...cp, done: [...done] }),
  });
  if (!published.ok) return published.result;
  const { prUrl } = published.value;
  return { state: "succeeded", ...(prUrl ? { prUrl } : {}), ...(cp.output ? { output: cp.output } : {}) };
}

/**
 * An earlier attempt's agent succeeded and its runner died before the work was committed (gate, commit): the
 * agent's changes are still in that worktree, uncommitted. Used when the worktree is here and still at the
 * commit the agent left (`head`); the gate runs and the work is committed and published as the first attempt
 * would have. Undefined when it is not (another host, the worktree reset or gone): the agent must run again.
 */
export async function resumeAgentWork(
  ctx: StageContext,
  cp: RunCheckpoint,
  work: Omit<AgentWork, "ws" | "output" | "outcome">,
): Promise<StageResult | undefined> {
  const head = await ctx.workspaces.head?.(cp.worktree).catch(() => undefined);
  if (!head || head !== cp.head) {
    ctx.onLog(
      "system",
      `the agent finished in an earlier attempt, but its worktree is not here as it left it (${cp.head ?? "no commit"}); running the agent again`,
    );
    return undefined;
  }
  ctx.onLog(
    "system",
    `the agent finished in an earlier attempt (${new Date(cp.at).toISOString()}) before its work was committed; ${ctx.stage.gate ? "running the gate, " : ""}committing and publishing it without running the agent again`,
  );
  return finishAgentWork(ctx, {
    ...work,
    ws: { worktree: cp.worktree, branch: cp.branch, baseBranch: cp.baseBranch },
    ...(cp.output ? { output: cp.output } : {}),
  });
}
