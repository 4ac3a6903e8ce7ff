import { z } from "zod";

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
