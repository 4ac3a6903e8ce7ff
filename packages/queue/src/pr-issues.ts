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

/** Key of the pull request forgehand opened for an issue (`issueKey`): where a later review stage posts its review. */
export function issuePrKey(prefix: string, issue: string): string {
  return `${prefix}:issue-pr:${issue}`;
}

/** Records that forgehand's pull request `prNumber` is the one it opened for `issue`. */
export async function recordIssuePr(redis: Redis, prefix: string, issue: string, prNumber: number): Promise<void> {
  await redis.set(issuePrKey(prefix, issue), String(prNumber), "EX", PR_ISSUE_TTL_S);
}

/** The number of the pull request forgehand opened for `issue`, if it did (and the record has not expired). */
export async function readIssuePr(redis: Redis, prefix: string, issue: string): Promise<number | undefined> {
  const raw = await redis.get(issuePrKey(prefix, issue));
  return raw && /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : undefined;
}
