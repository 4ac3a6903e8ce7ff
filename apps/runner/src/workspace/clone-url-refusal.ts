import { gitOrigin, isGitHostOf, redactUrl } from "@forgehand/core";

/**
 * Why a stage job's clone URL is refused, or undefined when it is on one of the forge's git hosts
 * (`ForgeClient.gitHosts` plus `git.credentialHosts`). A job names its clone URL itself, and anyone who can
 * write the queue can write a job: one pointing at another host must get neither a run nor the forge's token.
 */
export function cloneUrlRefusal(cloneUrl: string, gitHosts: readonly string[], forge: string): string | undefined {
  if (isGitHostOf(gitHosts, cloneUrl)) return undefined;
  const origin = gitOrigin(cloneUrl) ?? "an unrecognised URL";
  return (
    `[runner] Refusing the job: its clone URL \`${redactUrl(cloneUrl).slice(0, 200)}\` is on \`${origin}\`, not a git host of ` +
    `the ${forge} forge (${gitHosts.join(", ") || "none"}); add the host to \`git.credentialHosts\` if it is yours`
  );
}
