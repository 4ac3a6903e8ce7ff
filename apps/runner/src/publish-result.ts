import { formatDuration, type GitCredentials, type IssueRef, issueKey } from "@forgehand/core";
import type { ForgeClient, ForgeIssue } from "@forgehand/forge";
import { readIssuePr, recordIssuePr, recordPrIssue } from "@forgehand/queue";
import { classifyError } from "./classify-failure";
import { pullRequestBody } from "./pull-request-body";
import { type PullRequestPlan, postReviewOutput } from "./pull-request-stage";
import { retryInPlace } from "./retry-in-place";
import type { StageContext, Step } from "./stage-context";
import { HeadMovedError } from "./workspace/pull-request-head";
import { SecretInPushError } from "./workspace/scan-push";

/** What publishing needs from the stage run: the worktree, its branch and the agent's commit. */
export interface PublishInput {
  issue: ForgeIssue;
  ws: { worktree: string; branch: string; baseBranch: string };
  credentials: GitCredentials | null;
  commit: { committed: boolean; sha?: string };
  /** The pull request the stage ran on: push to its head (never a fork's), never open a second PR. */
  pullRequest?: PullRequestPlan;
  /** The agent's final message (`RunOutcome.resultText`): the PR body's summary, or an `output: review` stage's review. */
  output?: string | undefined;
  /** Steps an earlier attempt of this run already did (its checkpoint): skipped, never done twice. */
  done?: readonly string[];
  /** Called after each step, before the next: the checkpoint records it. */
  onStepDone?(done: readonly string[]): Promise<void>;
}

/**
 * Push → PR → labels, retried in place on transient failures while the run still holds the issue: the
 * commit exists only in this worktree, and a queue retry would reset it and run the agent again. A retry
 * skips the steps already done; each is also safe to repeat (force-with-lease on the start tip,
 * find-or-create PR, label removal ignores a label that is gone).
 */
export async function publishResult(ctx: StageContext, input: PublishInput): Promise<Step<{ prUrl?: string }>> {
  const { job, stage, config, forge, redact } = ctx;
  const { ref } = job;
  const { ws, commit, issue } = input;
  const next = stage.next ? config.stages.find((s) => s.name === stage.next) : undefined;
  const done = new Set<string>(input.done);
  let doing = "";
  let prUrl: string | undefined;
  // The PR is found-or-created, so it runs again on a resumed attempt (that is how its URL comes back).
  const repeatable = "opening the pull request";
  done.delete(repeatable);
  const once = async (what: string, fn: () => Promise<void>) => {
    if (done.has(what)) return;
    doing = what;
    await fn();
    done.add(what);
    await input.onStepDone?.([...done].filter((d) => d !== repeatable));
  };
  const pushing = `pushing ${ws.branch}`;
  const onPr = input.pullRequest;
  // On a PR the PR exists: a stage pushes only what it committed, to the head (a fork's: never).
  const push = onPr ? commit.committed && !onPr.readOnly : commit.committed || stage.openPullRequest;
  if (onPr && stage.openPullRequest)
    ctx.onLog("system", `on pull request #${onPr.pr.number}: openPullRequest skipped (no second pull request)`);
  const result = await retryInPlace(
    async () => {
      if (push)
        await once(pushing, async () => {
          await ctx.workspaces.push(ws.worktree, ws.branch, ref.repo, input.credentials);
          ctx.onLog("system", `pushed ${ws.branch}${commit.sha ? ` at ${commit.sha}` : ""}`);
        });
      if (stage.output === "review")
        await once("posting the review", async () => {
          // A review stage on an issue reviews the PR an earlier stage opened for it (analyse → develop → review).
          const prNumber =
            !ref.isPr && ctx.shared
              ? await readIssuePr(ctx.shared.redis, ctx.shared.prefix, issueKey(ref)).catch(() => undefined)
              : undefined;
          const reviewed = prNumber ? await openPull(forge, ref, prNumber) : undefined;
          const where = await postReviewOutput({
            forge,
            ref: reviewed ?? ref,
            stage: stage.name,
            runId: job.runId,
            text: input.output,
            redact,
          });
          ctx.onLog("system", where ? `output posted: ${where}` : "no final message from the agent; no review posted");
        });
      if (stage.openPullRequest && !onPr)
        await once(repeatable, async () => {
          const pr = await forge.findOrCreatePullRequest(ref.repo, {
            head: ws.branch,
            base: ws.baseBranch,
            // The title is forge text anyone could have written; both go public on the forge.
            title: redact(issue.title),
            body: pullRequestBody({ job, stage: stage.name, output: input.output, redact }),
          });
          prUrl = pr.url;
          // Closing or merging this PR stops the issue's run (the webhook looks the issue up on pull_request.closed).
          if (ctx.shared) {
            const { redis, prefix } = ctx.shared;
            await Promise.all([
              recordPrIssue(redis, prefix, issueKey({ repo: ref.repo, number: pr.number }), issueKey(ref)),
              recordIssuePr(redis, prefix, issueKey(ref), pr.number),
            ]).catch((error) => ctx.logger.warn("PR ↔ issue mapping not recorded", { error }));
          }
        });
      // Only a label that was on the issue when the run started: a `/run` on an unlabelled issue costs no write
      // (every write waits its turn in the installation's budget), and a label put on during the run stays.
      if (issue.labels.includes(stage.label))
        await once(`removing label ${stage.label}`, () => forge.removeLabel(ref, stage.label));
      if (next) await once(`adding label ${next.label}`, () => forge.addLabels(ref, [next.label]));
      return { prUrl };
    },
    {
      retries: config.runner.transientRetries,
      backoffMs: config.runner.retryBackoff,
      signal: ctx.signal,
      // The same commits would be refused again; its text (a file name) is the agent's and must not look transient.
      classify: (error) =>
        error instanceof SecretInPushError
          ? { kind: "permanent", why: error.reason }
          : // The head will not move back: retrying the same lease fails the same way.
            error instanceof HeadMovedError
            ? { kind: "permanent", why: error.message }
            : classifyError(error),
      onRetry: (n) =>
        ctx.onLog(
          "system",
          redact(
            `publishing failed (${doing}: ${n.why}); retry ${n.attempt}/${n.retries} in ${formatDuration(n.delayMs)}`,
          ),
        ),
    },
  );
  if (result.ok) return { ok: true, value: result.value };

  // Say where the agent's work is: a failed publish must not read as "the agent's work is gone".
  const kept = done.has(pushing)
    ? `branch \`${ws.branch}\` is pushed`
    : commit.committed
      ? `the work is committed locally on branch \`${ws.branch}\`${commit.sha ? ` (${commit.sha})` : ""} in the runner's worktree, not pushed${commit.sha ? ` (kept as \`refs/forgehand/unpublished/${ref.number}/${commit.sha}\` in the runner's mirror when the issue runs again)` : ""}`
      : `there were no changes to commit on branch \`${ws.branch}\``;
  if (result.aborted) {
    // process-stage-job replaces a stopped run's reason with who stopped it; the log keeps where the work is.
    const reason = redact(`stopped while waiting to retry ${doing}; ${kept}`);
    ctx.onLog("system", reason);
    return { ok: false, result: { state: "stopped", reason } };
  }
  if (result.error instanceof SecretInPushError) {
    // Never retried (the same commits would be refused again), never pushed; says where, never the value.
    const reason = redact(`not published: ${result.error.reason}; nothing was pushed; ${kept}`);
    ctx.onLog("system", reason);
    return { ok: false, result: { state: "failed", reason } };
  }
  const message = (result.error as Error)?.message ?? String(result.error);
  const tries = result.retries ? ` after ${result.retries} ${result.retries === 1 ? "retry" : "retries"}` : "";
  return {
    ok: false,
    // A git error can quote a URL or a credential helper's output: redacted before it reaches a comment.
    result: {
      state: "failed",
      reason: redact(`publishing the result failed while ${doing}${tries}: ${message}; ${kept}`),
    },
  };
}

/** The issue's PR as a ref to review, if it is still open (a closed or merged one gets the issue comment instead). */
async function openPull(forge: ForgeClient, ref: IssueRef, prNumber: number): Promise<IssueRef | undefined> {
  const pr = await forge.getPullRequest(ref.repo, prNumber).catch(() => undefined);
  return pr && pr.state === "open" && !pr.merged ? { ...ref, number: prNumber, isPr: true } : undefined;
}
