import { botMarkdown } from "@forgehand/core";
import type { StageJob } from "@forgehand/queue";

/** Characters of the stage's summary in a PR body (GitHub allows 65,536 in all). */
const SUMMARY_MAX = 50_000;

/** Who asked, as a PR body says it: a forge login keeps only the characters a login may have. */
export function requester(trigger: StageJob["trigger"]): string {
  const login = trigger.by.replace(/[^A-Za-z0-9_.-]/g, "");
  const how = { label: "label", command: "/run", retry: "/retry", operator: "operator" }[trigger.kind];
  return trigger.kind === "operator" ? "an operator" : `@${login} (${how})`;
}

/** The body of the PR a stage opens: what the agent says it changed, `Closes #N`, and who asked. */
export function pullRequestBody(input: {
  job: StageJob;
  stage: string;
  output: string | undefined;
  redact: (text: string) => string;
}): string {
  const { job, stage, output, redact } = input;
  const summary = output?.trim() ? botMarkdown(output, redact, SUMMARY_MAX) : "";
  return [
    ...(summary ? ["## Summary", "", summary, ""] : []),
    `Closes #${job.ref.number}`,
    "",
    redact(`Requested by ${requester(job.trigger)} · opened by forgehand, stage \`${stage}\` (run \`${job.runId}\`).`),
  ].join("\n");
}
