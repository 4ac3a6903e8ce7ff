export { ensureAskpass } from "./askpass";
export { branchName, SLUG_MAX, slugify, validateBranchPrefix } from "./branch-name";
export { inspectWorktree, LAST_USED_FILE, listWorktrees, type WorktreeInfo } from "./list-worktrees";
export { withMirrorLock } from "./mirror-lock";
export { HeadMovedError } from "./pull-request-head";
export { normaliseRemoteUrl } from "./remote-url";
export { GATE_TAIL_BYTES, type GateResult, type RunGateOptions, runGate } from "./run-gate";
export { GitError, runGit } from "./run-git";
export { locateWorktree, type WorkspacePaths, workspacePaths } from "./workspace-paths";
export {
  createWorkspaces,
  type PreparedWorkspace,
  type PrepareInput,
  type PullRequestHead,
  type StageWorkspaces,
  type SweepGuard,
  type SweepResult,
  type Workspaces,
  type WorkspacesOptions,
} from "./workspaces";
