import type { WorkspaceContext } from "./context";
import { inspectWorktree, listWorktrees, type WorktreeInfo } from "./list-worktrees";
import { withMirrorLock } from "./mirror-lock";
import type { SweepGuard, SweepResult } from "./types";
import { locateWorktree } from "./workspace-paths";
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
  const result: SweepResult = { removed: [], skipped: [] };
  if (!(olderThanMs > 0)) return result;
  const isStale = (info: WorktreeInfo) => info.broken || Date.now() - info.lastUsedMs >= olderThanMs;
  for (const found of await listWorktrees(rootDir)) {
    if (opts.signal?.aborted) break;
    if (!isStale(found)) continue;
    const paths = locateWorktree(rootDir, found.worktree);
    const done: { outcome?: "removed" | "used" } = {};
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
        }),
      );
      if (done.outcome === "removed") {
        result.removed.push(found);
        const idleDays = Math.round(((Date.now() - found.lastUsedMs) / 86_400_000) * 10) / 10;
        log.info("worktree removed", { worktree: found.worktree, broken: found.broken, idleDays });
      } else result.skipped.push({ ...found, reason: allowed && done.outcome === "used" ? "used" : "busy" });
    } catch (error) {
      log.warn("worktree sweep failed", { worktree: found.worktree, error });
      result.skipped.push({ ...found, reason: "error" });
    }
  }
  return result;
}
