import { lstat } from "node:fs/promises";
import type { RepoRef } from "@forgehand/core";
import { agentHomeChangedMs, listAgentHomes, removeAgentHome } from "./agent-homes";
import type { WorkspaceContext } from "./context";
import type { WorktreeInfo } from "./list-worktrees";
import { withMirrorLock } from "./mirror-lock";
import type { SweepGuard } from "./types";
import { type WorkspacePaths, workspacePaths } from "./workspace-paths";

/**
 * Removes agent HOMEs whose worktree no longer exists (removed by hand, by an older forgehand that kept HOMEs,
 * or a crash between the two removals) and that have not changed for `olderThanMs`; each through `guard` (the
 * issue lease) and under the mirror lock, re-checked there. Returns the removed paths. Names that are not
 * plain segments never belonged to a worktree (the workspace refuses them): such entries are left alone.
 */
export async function sweepOrphanAgentHomes(
  ctx: WorkspaceContext,
  homesRoot: string,
  olderThanMs: number,
  guard: SweepGuard,
  opts: { signal?: AbortSignal } = {},
): Promise<string[]> {
  const removed: string[] = [];
  const isOrphan = async (changedMs: number | undefined, paths: WorkspacePaths) =>
    changedMs !== undefined &&
    Date.now() - changedMs >= olderThanMs &&
    !(await lstat(paths.worktree).catch(() => undefined));
  for (const home of await listAgentHomes(homesRoot)) {
    if (opts.signal?.aborted) break;
    let paths: WorkspacePaths;
    try {
      const repo = { forge: home.forge, owner: home.owner, name: home.name } as RepoRef;
      paths = workspacePaths(ctx.rootDir, repo, home.issue);
    } catch {
      continue;
    }
    if (!(await isOrphan(home.changedMs, paths))) continue;
    // What the guard needs to take the issue's lease: the issue this HOME belongs to.
    const info: WorktreeInfo = { ...home, worktree: paths.worktree, lastUsedMs: home.changedMs, broken: true };
    let gone = false;
    try {
      await guard(info, () =>
        withMirrorLock(paths.lock, async () => {
          // A run may have prepared the worktree (or used the HOME) since the listing.
          if (await isOrphan(await agentHomeChangedMs(home.path), paths))
            gone = await removeAgentHome(homesRoot, home.path);
        }),
      );
    } catch (error) {
      ctx.log.warn("agent HOME sweep failed", { agentHome: home.path, error });
      continue;
    }
    if (gone) {
      removed.push(home.path);
      const idleDays = Math.round(((Date.now() - home.changedMs) / 86_400_000) * 10) / 10;
      ctx.log.info("orphan agent HOME removed", { agentHome: home.path, idleDays });
    }
  }
  return removed;
}
