import { agentHomePath, removeAgentHome } from "./agent-homes";
import type { WorkspaceContext } from "./context";
import { inspectWorktree, listWorktrees, type WorktreeInfo } from "./list-worktrees";
import { withMirrorLock } from "./mirror-lock";
import { sweepOrphanAgentHomes } from "./sweep-agent-homes";
import type { SweepGuard, SweepResult } from "./types";
import { locateWorktree, type WorkspacePaths } from "./workspace-paths";
import { removeWorktree } from "./worktree";

/** Removes one worktree (see `removeWorktree`) under its mirror lock. */
export async function removeWorktreeLocked(ctx: WorkspaceContext, worktree: string): Promise<void> {
  const paths = locateWorktree(ctx.rootDir, worktree);
  await withMirrorLock(paths.lock, () => removeWorktree(ctx, paths));
}

/** See `Workspaces.sweep`. */
export async function sweepWorktrees(
  ctx: WorkspaceContext,
  olderThanMs: number,
  guard: SweepGuard,
  opts: { signal?: AbortSignal } = {},
): Promise<SweepResult> {
  const { rootDir, log } = ctx;
  const result: SweepResult = { removed: [], skipped: [], agentHomesRemoved: [] };
  if (!(olderThanMs > 0)) return result;
  const isStale = (info: WorktreeInfo) => info.broken || Date.now() - info.lastUsedMs >= olderThanMs;
  for (const found of await listWorktrees(rootDir)) {
    if (opts.signal?.aborted) break;
    if (!isStale(found)) continue;
    const paths = locateWorktree(rootDir, found.worktree);
    const done: { outcome?: "removed" | "used"; home?: string } = {};
    try {
      const allowed = await guard(found, () =>
        withMirrorLock(paths.lock, async () => {
          // Looked at again under the issue lease and the mirror lock: a run may have used it since the listing.
          const now = await inspectWorktree(rootDir, found.worktree);
          if (now && !isStale(now)) {
            done.outcome = "used";
            return;
          }
          await removeWorktree(ctx, paths);
          done.outcome = "removed";
          done.home = await removeIssueHome(ctx, found, paths);
        }),
      );
      if (done.outcome === "removed") {
        result.removed.push(found);
        if (done.home) result.agentHomesRemoved.push(done.home);
        const idleDays = Math.round(((Date.now() - found.lastUsedMs) / 86_400_000) * 10) / 10;
        log.info("worktree removed", {
          worktree: found.worktree,
          broken: found.broken,
          idleDays,
          ...(done.home ? { agentHome: done.home } : {}),
        });
      } else result.skipped.push({ ...found, reason: allowed && done.outcome === "used" ? "used" : "busy" });
    } catch (error) {
      log.warn("worktree sweep failed", { worktree: found.worktree, error });
      result.skipped.push({ ...found, reason: "error" });
    }
  }
  if (ctx.agentHomesDir && !opts.signal?.aborted) {
    result.agentHomesRemoved.push(...(await sweepOrphanAgentHomes(ctx, ctx.agentHomesDir, olderThanMs, guard, opts)));
  }
  return result;
}

/**
 * The issue's agent HOME goes with its worktree (same lease, same lock): a later run starts a fresh session, as
 * it starts from a fresh worktree. Its path, when one was removed. A failure is logged; the orphan sweep retries.
 */
async function removeIssueHome(
  ctx: WorkspaceContext,
  info: WorktreeInfo,
  paths: WorkspacePaths,
): Promise<string | undefined> {
  if (!ctx.agentHomesDir) return undefined;
  const home = agentHomePath(ctx.agentHomesDir, info);
  try {
    return (await removeAgentHome(ctx.agentHomesDir, home)) ? home : undefined;
  } catch (error) {
    ctx.log.warn("agent HOME removal failed", { worktree: paths.worktree, agentHome: home, error });
    return undefined;
  }
}
