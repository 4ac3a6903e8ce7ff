import { type Config, issueKey, type Logger, type RunRecord } from "@forgehand/core";
import { ForgeApiError, type ForgeClient, type ForgePullRequest } from "@forgehand/forge";
import type { RunStore, StageJob } from "@forgehand/queue";
import type { Redis } from "ioredis";

/** Whether a stage may start on the job's PR under `pullRequests.forks`; `reply` tells the PR why not. */
export type ForkCheck = { ok: true; pr?: ForgePullRequest } | { ok: false; reason: string; reply?: string };

/** How long "already told this PR that stages do not run on forks" is remembered. */
const REPLY_ONCE_TTL_S = 30 * 86_400;

/** What the PR is told when a stage label or `/run` on a fork PR starts nothing. */
export function forkReply(stage: string): string {
  return [
    `Stage \`${stage}\` did not run: forgehand does not run stages on pull requests from forks by default.`,
    "The fork's author controls both the code the agent would work on and the text it would read, while the",
    "run would hold this repository's credentials.",
    "",
    "An operator can allow it in forgehand.yml with `pullRequests: { forks: read-only }`: the stage then runs",
    "with no git credentials at all — nothing is pushed — and its output is posted on the pull request.",
  ].join("\n");
}

/**
 * Asks the forge (never the delivery) whether the job's PR comes from a fork; a fork PR runs only under
 * `pullRequests.forks: read-only`. Issues are not asked about. A PR that no longer exists starts nothing.
 * Other forge errors propagate: the caller delays the job.
 */
export async function checkForkPolicy(job: StageJob, config: Config, forge: ForgeClient): Promise<ForkCheck> {
  if (!job.ref.isPr) return { ok: true };
  let pr: ForgePullRequest;
  try {
    pr = await forge.getPullRequest(job.ref.repo, job.ref.number);
  } catch (error) {
    if (error instanceof ForgeApiError && error.status === 404)
      return { ok: false, reason: `${issueKey(job.ref)} is not a pull request the forge knows` };
    throw error;
  }
  if (!pr.fork || config.pullRequests.forks === "read-only") return { ok: true, pr };
  return {
    ok: false,
    reason: `pull request #${pr.number} comes from a fork (${pr.head.repoFullName ?? "deleted repository"}) and pullRequests.forks is deny`,
    reply: forkReply(job.stage),
  };
}

/** A fork PR's trigger refused: logged, and the PR told why and how to enable it — once per PR and stage. */
export async function refuseFork(o: {
  redis: Redis;
  prefix: string;
  store: RunStore;
  forge: ForgeClient;
  job: StageJob;
  check: Extract<ForkCheck, { ok: false }>;
  record: RunRecord;
  log: Logger;
}): Promise<void> {
  o.log.info("run not started on a pull request", { reason: o.check.reason });
  await o.store.appendLog(o.job.runId, "system", o.record.reason ?? o.check.reason).catch(() => {});
  if (!o.check.reply) return;
  const key = `${o.prefix}:fork-reply:${issueKey(o.job.ref)}:${o.job.stage}`;
  const first = await o.redis.set(key, o.job.runId, "EX", REPLY_ONCE_TTL_S, "NX");
  if (first !== "OK") return;
  await o.forge
    .createComment(o.job.ref, o.check.reply)
    .catch((error) => o.log.warn("fork reply not posted", { error }));
}
