import type { Config, IssueRef } from "@forgehand/core";
import type { ForgeClient, ForgePullRequest } from "@forgehand/forge";
import { capText } from "@forgehand/queue";
import type { PullRequestHead } from "./workspace";

/** How a stage runs on a pull request: on its head, and for a fork (under `read-only`) with no credentials. */
export interface PullRequestPlan {
  pr: ForgePullRequest;
  /** What the workspace checks out: the head branch (pushed to) or, for a fork, `refs/pull/N/head`. */
  head: PullRequestHead;
  /** A fork PR: no git credentials are asked for or given, nothing is committed or pushed. */
  readOnly: boolean;
}

/**
 * Reads the PR fresh from the forge when the stage starts (a delivery's `pull_request.head` is not trusted,
 * and it may be stale). `undefined` for an issue. Throws for a fork PR under `forks: deny` (checked before
 * the lease already; here again because the answer is newer).
 */
export async function planPullRequest(
  forge: ForgeClient,
  ref: IssueRef,
  config: Config,
): Promise<PullRequestPlan | undefined> {
  if (!ref.isPr) return undefined;
  const pr = await forge.getPullRequest(ref.repo, ref.number);
  if (pr.fork && config.pullRequests.forks !== "read-only")
    throw new Error(`[runner] pull request #${pr.number} comes from a fork and pullRequests.forks is deny`);
  // A PR from the default branch (into a release branch, say): its head is not pushed with a lease either.
  if (!pr.fork && ref.repo.defaultBranch !== undefined && pr.head.ref === ref.repo.defaultBranch)
    throw new Error(
      `[runner] pull request #${pr.number}'s head is the default branch \`${pr.head.ref}\`: forgehand does not push to it`,
    );
  const head: PullRequestHead = pr.fork
    ? { number: pr.number, headSha: pr.head.sha }
    : { number: pr.number, headBranch: pr.head.ref, headSha: pr.head.sha };
  return { pr, head, readOnly: pr.fork };
}

/** The agent's final message made fit to post as the bot: no @-mentions, no hidden HTML, capped. */
export function postableOutput(text: string, redact: (t: string) => string, max = 60_000): string {
  const clean = redact(text)
    .replace(/<!--[\s\S]*?(?:-->|$)/g, "")
    // A zero-width space after `@` keeps the text readable and notifies no one (also `@org/team`).
    .replace(/@(?=[A-Za-z0-9_-])/g, "@\u200b")
    .trim();
  return clean.length > max
    ? `${capText(clean, max)}\n\n… (cut at ${max} characters; the full text is in the run log)`
    : clean;
}

/**
 * Posts a `review` stage's output: as a PR review (`event: COMMENT`) on a pull request, as a comment on an
 * issue. Returns where it went, or undefined when the agent left no final message.
 */
export async function postReviewOutput(o: {
  forge: ForgeClient;
  ref: IssueRef;
  stage: string;
  runId: string;
  text: string | undefined;
  redact: (t: string) => string;
}): Promise<string | undefined> {
  const text = o.text ? postableOutput(o.text, o.redact) : "";
  if (!text) return undefined;
  const body = `${text}\n\n<sub>forgehand · stage \`${o.stage}\` · run ${o.runId}</sub>`;
  if (o.ref.isPr) {
    const review = await o.forge.createReview(o.ref.repo, o.ref.number, body);
    return review.htmlUrl ?? `review ${review.id}`;
  }
  const comment = await o.forge.createComment(o.ref, body);
  return comment.htmlUrl ?? `comment ${comment.id}`;
}
