import { commitAll, pushBranch, worktreeHead } from "./commit-push";
import { createWorkspaceContext } from "./context";
import { createMirrors } from "./mirror";
import { removeWorktreeLocked, sweepWorktrees } from "./sweep";
import type { Workspaces, WorkspacesOptions } from "./types";
import { prepareWorktree } from "./worktree";

export { parseFetchHead } from "./mirror";
export type {
  PreparedWorkspace,
  PrepareInput,
  PullRequestHead,
  StageWorkspaces,
  SweepGuard,
  SweepResult,
  Workspaces,
  WorkspacesOptions,
} from "./types";

/** Creates the workspace manager; all state lives on disk, so several instances (or processes) can share `rootDir`. */
export function createWorkspaces(opts: WorkspacesOptions): Workspaces {
  const ctx = createWorkspaceContext(opts);
  const mirrors = createMirrors(ctx);
  return {
    prepare: (input) => prepareWorktree(ctx, mirrors, input),
    commitAll: (worktree, message) => commitAll(ctx, worktree, message),
    push: (worktree, branch, repo, credentials) => pushBranch(ctx, worktree, branch, repo, credentials),
    head: (worktree) => worktreeHead(ctx, worktree),
    remove: (worktree) => removeWorktreeLocked(ctx, worktree),
    sweep: (olderThanMs, guard, sweepOpts) => sweepWorktrees(ctx, olderThanMs, guard, sweepOpts),
  };
}
