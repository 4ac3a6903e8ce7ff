import { z } from "zod";

/**
 * What a stage does with the agent's final message. `summary` and `comment` belong to the stage-output
 * work (issue 14 item 1); `review` posts it as a pull-request review (`event: COMMENT`) when the stage
 * runs on a PR, and as a plain comment on an issue.
 */
export const StageOutput = z.enum(["summary", "comment", "review"]);
export type StageOutput = z.infer<typeof StageOutput>;

/**
 * Stages started on pull requests. `forks`: a PR whose head lives in another repository (a fork) runs
 * nothing by default (`deny`: the author of the fork controls the code and the text the agent reads);
 * `read-only` runs the stage with no git credentials at all — nothing is pushed, the output is posted.
 */
export const PullRequestsConfig = z
  .object({ forks: z.enum(["deny", "read-only"]).default("deny") })
  .strict()
  .default({ forks: "deny" });
export type PullRequestsConfig = z.infer<typeof PullRequestsConfig>;
