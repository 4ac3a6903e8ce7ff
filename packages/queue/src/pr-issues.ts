import type { Redis } from "ioredis";

/**
 * How long forgehand remembers which issue a PR it opened is for: as long as a run record (and so `/retry`)
 * lives; a PR closed after that stops nothing, because nothing of that issue is still running.
 */
export const PR_ISSUE_TTL_S = 30 * 24 * 3600;

/** Key of the issue a pull request (`issueKey` of the PR) was opened for. */
export function prIssueKey(prefix: string, pr: string): string {
  return `${prefix}:pr-issue:${pr}`;
}

/** Records that forgehand opened pull request `pr` for `issue` (both `issueKey`s), so closing it can stop the issue's run. */
export async function recordPrIssue(redis: Redis, prefix: string, pr: string, issue: string): Promise<void> {
  await redis.set(prIssueKey(prefix, pr), issue, "EX", PR_ISSUE_TTL_S);
}

/** The issue forgehand opened pull request `pr` for, if it did. */
export async function readPrIssue(redis: Redis, prefix: string, pr: string): Promise<string | null> {
  return redis.get(prIssueKey(prefix, pr));
}
