/**
 * Measures `prepare` from a cold and from a warm mirror against a local bare origin.
 * Run: `npx tsx apps/runner/src/workspace/measure-prepare.ts [runs]`. The dispatch budget is p95 ≤ 150 ms.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RepoRef } from "@forgehand/core";
import { createGitOrigin } from "./create-git-origin";
import { createWorkspaces } from "./workspaces";

const runs = Number(process.argv[2] ?? 30);
const dir = await mkdtemp(join(tmpdir(), "fh-measure-"));
try {
  const origin = await createGitOrigin(dir);
  for (let i = 0; i < 60; i++) await origin.commit({ [`src/file-${i % 50}.ts`]: `export const v = ${i};\n` }, `c${i}`);
  const repo: RepoRef = { forge: "gitea", fullName: "acme/w", owner: "acme", name: "w", cloneUrl: origin.path };
  const ws = createWorkspaces({
    rootDir: join(dir, "data"),
    author: { name: "b", email: "b@x" },
    branchPrefix: "forgehand",
  });
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const cold = await time(() => ws.prepare({ repo, issue: 1, title: "cold", credentials: null }));
  const newWorktree: number[] = [];
  const reused: number[] = [];
  for (let i = 0; i < runs; i++) {
    newWorktree.push(await time(() => ws.prepare({ repo, issue: 100 + i, title: "new worktree", credentials: null })));
    reused.push(await time(() => ws.prepare({ repo, issue: 1, title: "cold", credentials: null })));
  }
  const pct = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
  const show = (name: string, xs: number[]) =>
    console.log(
      `${name.padEnd(28)} p50 ${pct(xs, 0.5)?.toFixed(1)} ms  p95 ${pct(xs, 0.95)?.toFixed(1)} ms  (n=${xs.length})`,
    );
  console.log(`cold prepare (clone)         ${cold.toFixed(1)} ms`);
  show("warm mirror, new worktree", newWorktree);
  show("warm mirror, reused worktree", reused);
} finally {
  await rm(dir, { recursive: true, force: true });
}
