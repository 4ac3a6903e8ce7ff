import type { IssueRef } from "@forgehand/core";
import type { ForgeClient, ForgeIssue } from "@forgehand/forge";

/** Characters of `{{pr.diff}}`: a large PR's diff would crowd out the task (the agent can run `git diff`). */
export const PR_DIFF_MAX = 60_000;
/** Review comments in `{{pr.reviewComments}}`, the most recent ones. */
const MAX_REVIEW_COMMENTS = 50;

/** A diff cut at a line break under `max`, saying how much is missing. */
export function capDiff(diff: string, max = PR_DIFF_MAX): string {
  if (diff.length <= max) return diff;
  const cut = diff.slice(0, max);
  const at = cut.lastIndexOf("\n");
  return `${at > 0 ? cut.slice(0, at) : cut}\n… [diff cut: ${diff.length} characters in all; run \`git diff\` for the rest]`;
}

/** `{{pr.title}}`, `{{pr.body}}`, `{{pr.diff}}`, `{{pr.reviewComments}}` of a PR, fetching only what `names` uses. */
export async function loadPullRequestValues(
  forge: ForgeClient,
  ref: IssueRef,
  issue: ForgeIssue,
  names: ReadonlySet<string>,
): Promise<{ title: string; body: string; diff: string; reviewComments: string }> {
  let diff = "";
  if (names.has("pr.diff")) {
    diff = capDiff(await forge.getPullRequestDiff(ref.repo, ref.number));
  }
  let reviewComments = "";
  if (names.has("pr.reviewComments")) {
    const comments = await forge.listPullRequestReviewComments(ref.repo, ref.number);
    reviewComments = comments
      .slice(-MAX_REVIEW_COMMENTS)
      .map((c) => `@${c.author} on ${c.path}${c.line ? `:${c.line}` : ""}:\n${c.body}`)
      .join("\n\n---\n\n");
  }
  // A PR is an issue on both forges: the issue read (as the trigger saw it) has its title and body.
  return { title: issue.title, body: issue.body, diff, reviewComments };
}
