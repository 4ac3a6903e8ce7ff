/** What the agent learns about its run through the environment. */
export interface RunEnvInfo {
  runId: string;
  repo: string;
  issue: number;
  stage: string;
  worktree: string;
}

/**
 * The agent's complete environment: its configured `env`, `PATH` and `HOME` from the
 * runner, and the FORGEHAND_* run facts. Nothing else of the runner's environment
 * (webhook secrets, forge tokens, the API token) leaks in unless `env` names it.
 */
export function buildAgentEnv(
  agentEnv: Record<string, string>,
  runnerEnv: NodeJS.ProcessEnv,
  run: RunEnvInfo,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (runnerEnv.PATH) env.PATH = runnerEnv.PATH;
  if (runnerEnv.HOME) env.HOME = runnerEnv.HOME;
  Object.assign(env, agentEnv);
  env.FORGEHAND_RUN_ID = run.runId;
  env.FORGEHAND_REPO = run.repo;
  env.FORGEHAND_ISSUE = String(run.issue);
  env.FORGEHAND_STAGE = run.stage;
  env.FORGEHAND_WORKTREE = run.worktree;
  return env;
}
