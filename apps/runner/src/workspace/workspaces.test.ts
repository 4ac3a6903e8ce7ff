import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RepoRef } from "@forgehand/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exec } from "../testing/exec";
import { createGitOrigin, type GitOrigin } from "./create-git-origin";
import { createWorkspaces, parseFetchHead, type Workspaces } from "./workspaces";

const AUTHOR = { name: "forgehand[bot]", email: "bot@forgehand.test" };

let dir: string;
let origin: GitOrigin;
let repo: RepoRef;
let ws: Workspaces;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fh-ws-"));
  origin = await createGitOrigin(dir);
  repo = { forge: "gitea", fullName: "acme/widgets", owner: "acme", name: "widgets", cloneUrl: origin.path };
  ws = createWorkspaces({ rootDir: join(dir, "data"), author: AUTHOR, branchPrefix: "forgehand" });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const git = async (cwd: string, ...args: string[]) => (await exec(["git", ...args], { cwd })).stdout.trim();
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe("prepare", () => {
  it("clones a fresh mirror and makes a worktree on the issue branch from the remote HEAD", async () => {
    const mainSha = await origin.git("rev-parse", "main");
    const ws1 = await ws.prepare({ repo, issue: 12, title: "Fix the login bug", credentials: null });
    expect(ws1).toMatchObject({ branch: "forgehand/12-fix-the-login-bug", baseBranch: "main", baseSha: mainSha });
    expect(ws1.continued).toBe(false);
    expect(ws1.worktree).toBe(join(dir, "data", "worktrees", "gitea", "acme", "widgets", "12"));
    expect(await exists(join(dir, "data", "mirrors", "gitea", "acme", "widgets.git", "HEAD"))).toBe(true);
    expect(await readFile(join(ws1.worktree, "README.md"), "utf8")).toBe("# widgets\n");
    expect(await git(ws1.worktree, "symbolic-ref", "--short", "HEAD")).toBe("forgehand/12-fix-the-login-bug");
    expect(await git(ws1.worktree, "rev-parse", "HEAD")).toBe(mainSha);
  });

  it("fetches new base commits into a warm mirror, and a warm prepare is cheap", async () => {
    await ws.prepare({ repo, issue: 1, title: "first", credentials: null });
    const newSha = await origin.commit({ "src/a.ts": "export const a = 1;\n" }, "add a");
    const timings: number[] = [];
    let last = await ws.prepare({ repo, issue: 2, title: "second", credentials: null });
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      last = await ws.prepare({ repo, issue: 2, title: "second", credentials: null });
      timings.push(performance.now() - t0);
    }
    expect(last.baseSha).toBe(newSha);
    expect(await readFile(join(last.worktree, "src/a.ts"), "utf8")).toContain("a = 1");
    timings.sort((a, b) => a - b);
    console.log(`[workspace] warm prepare (reused worktree) ms: ${timings.map((t) => t.toFixed(1)).join(", ")}`);
  });

  it("recovers from ref locks a killed fetch left in the mirror", async () => {
    await ws.prepare({ repo, issue: 1, title: "first", credentials: null });
    const mirror = join(dir, "data", "mirrors", "gitea", "acme", "widgets.git");
    await writeFile(join(mirror, "refs", "remotes", "origin", "main.lock"), "");
    const newSha = await origin.commit({ "b.txt": "b\n" }, "add b");
    const again = await ws.prepare({ repo, issue: 1, title: "first", credentials: null });
    expect(again.baseSha).toBe(newSha);
    expect(await exists(join(mirror, "refs", "remotes", "origin", "main.lock"))).toBe(false);
  });

  it("uses an explicit baseBranch and reports a missing one clearly", async () => {
    const devSha = await origin.commit({ "dev.txt": "dev\n" }, "dev work", "develop");
    const ws1 = await ws.prepare({ repo, issue: 3, title: "x", credentials: null, baseBranch: "develop" });
    expect(ws1).toMatchObject({ baseBranch: "develop", baseSha: devSha, startSha: devSha });
    await expect(ws.prepare({ repo, issue: 4, title: "x", credentials: null, baseBranch: "nope" })).rejects.toThrow(
      /\[workspace\] Base branch `nope` not found/,
    );
    await expect(ws.prepare({ repo, issue: 4, title: "x", credentials: null, baseBranch: "--exec=x" })).rejects.toThrow(
      /Expected `baseBranch` to be a git branch name, got `--exec=x`/,
    );
  });

  it("reuses an existing worktree: tracked edits reset, untracked files removed, ignored files kept", async () => {
    const first = await ws.prepare({ repo, issue: 5, title: "reuse me", credentials: null });
    await writeFile(join(first.worktree, "README.md"), "scribbled\n");
    await writeFile(join(first.worktree, "stray.txt"), "stray\n");
    await writeFile(join(first.worktree, "staged.txt"), "staged\n");
    await git(first.worktree, "add", "staged.txt");
    await mkdir(join(first.worktree, "ignored"));
    await writeFile(join(first.worktree, "ignored", "cache.bin"), "keep\n");
    const second = await ws.prepare({ repo, issue: 5, title: "reuse me", credentials: null });
    expect(second.worktree).toBe(first.worktree);
    expect(await readFile(join(second.worktree, "README.md"), "utf8")).toBe("# widgets\n");
    expect(await exists(join(second.worktree, "stray.txt"))).toBe(false);
    expect(await exists(join(second.worktree, "staged.txt"))).toBe(false);
    expect(await git(second.worktree, "status", "--porcelain")).toBe("");
    expect(await readFile(join(second.worktree, "ignored", "cache.bin"), "utf8")).toBe("keep\n");
  });

  it("recreates a worktree whose directory was damaged", async () => {
    const first = await ws.prepare({ repo, issue: 6, title: "damaged", credentials: null });
    await writeFile(join(first.worktree, ".git"), "gitdir: /nonexistent\n");
    const second = await ws.prepare({ repo, issue: 6, title: "damaged", credentials: null });
    expect(await git(second.worktree, "symbolic-ref", "--short", "HEAD")).toBe("forgehand/6-damaged");
  });

  it("continues from the issue branch on the remote, even after the title changed", async () => {
    const pushed = await origin.commit({ "plan.md": "the plan\n" }, "analysis", "forgehand/8-old-title");
    const ws1 = await ws.prepare({ repo, issue: 8, title: "New title", credentials: null });
    expect(ws1).toMatchObject({ branch: "forgehand/8-old-title", startSha: pushed, continued: true });
    expect(await readFile(join(ws1.worktree, "plan.md"), "utf8")).toBe("the plan\n");
  });

  it("serialises concurrent prepares of one repository", async () => {
    const results = await Promise.all(
      [21, 22, 23].map((issue) => ws.prepare({ repo, issue, title: `issue ${issue}`, credentials: null })),
    );
    const other = createWorkspaces({ rootDir: join(dir, "data"), author: AUTHOR, branchPrefix: "forgehand" });
    results.push(await other.prepare({ repo, issue: 24, title: "issue 24", credentials: null }));
    for (const [i, r] of results.entries()) {
      expect(r.branch).toBe(`forgehand/${21 + i}-issue-${21 + i}`);
      expect(await git(r.worktree, "status", "--porcelain")).toBe("");
    }
    const mirror = join(dir, "data", "mirrors", "gitea", "acme", "widgets.git");
    const list = await git(mirror, "worktree", "list", "--porcelain");
    expect(list.match(/^worktree /gm)).toHaveLength(5); // the bare mirror itself + 4
    expect(await git(mirror, "fsck", "--no-progress")).toBe("");
  });

  it("waits for another process holding the mirror's file lock", async () => {
    await ws.prepare({ repo, issue: 30, title: "warm", credentials: null });
    const lock = join(dir, "data", "mirrors", "gitea", "acme", "widgets.lock");
    const holder = spawn("flock", ["--exclusive", lock, "sleep", "1.5"], { stdio: "ignore" });
    const holderExited = new Promise((r) => holder.once("exit", r));
    // Bounded poll until the other process really holds the lock.
    for (let i = 0; i < 100; i++) {
      const probe = await exec(["flock", "--nonblock", lock, "true"], { reject: false });
      if (probe.exitCode !== 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const t0 = performance.now();
    await ws.prepare({ repo, issue: 31, title: "waits", credentials: null });
    const waited = performance.now() - t0;
    await holderExited;
    expect(waited).toBeGreaterThan(700);
  });

  it("refuses path-unsafe repository names and option-like or command-running URLs", async () => {
    await expect(
      ws.prepare({ repo: { ...repo, owner: ".." }, issue: 1, title: "x", credentials: null }),
    ).rejects.toThrow(/Expected `repo.owner` to be a plain name, got `..`/);
    for (const cloneUrl of ["--upload-pack=touch /tmp/x", "ext::sh -c touch% /tmp/x", "fd::17"]) {
      await expect(
        ws.prepare({ repo: { ...repo, cloneUrl }, issue: 1, title: "x", credentials: null }),
      ).rejects.toThrow(/\[workspace\]/);
    }
  });

  it("works with a hostile title and a file:// URL", async () => {
    const ws1 = await ws.prepare({
      repo: { ...repo, cloneUrl: `file://${origin.path}` },
      issue: 9,
      title: "--upload-pack=touch /tmp/pwned",
      credentials: null,
    });
    expect(ws1.branch).toBe("forgehand/9-upload-pack-touch-tmp-pwned");
  });

  it("never runs hooks, even ones planted in the mirror", async () => {
    const ws1 = await ws.prepare({ repo, issue: 10, title: "hooks", credentials: null });
    const mirror = join(dir, "data", "mirrors", "gitea", "acme", "widgets.git");
    const marker = join(dir, "hook-ran");
    await mkdir(join(mirror, "hooks"), { recursive: true });
    for (const hook of ["post-checkout", "pre-commit", "post-commit", "pre-push", "reference-transaction"]) {
      await writeFile(join(mirror, "hooks", hook), `#!/bin/sh\necho ${hook} >> ${marker}\n`, { mode: 0o755 });
    }
    await ws.prepare({ repo, issue: 10, title: "hooks", credentials: null });
    await writeFile(join(ws1.worktree, "new.txt"), "x\n");
    await ws.commitAll(ws1.worktree, "change");
    await ws.push(ws1.worktree, ws1.branch, repo, null);
    expect(await exists(marker)).toBe(false);
  });
});

describe("commitAll and push", () => {
  it("commits nothing when nothing changed, else commits as the configured author", async () => {
    const w = await ws.prepare({ repo, issue: 11, title: "commit", credentials: null });
    expect(await ws.commitAll(w.worktree, "no-op")).toEqual({ committed: false });
    await writeFile(join(w.worktree, "feature.ts"), "export {};\n");
    await rm(join(w.worktree, "README.md"));
    const message = "feat: add feature (#11)\n\n# not a comment, kept\n$(id) `id`";
    const result = await ws.commitAll(w.worktree, message);
    expect(result.committed).toBe(true);
    expect(result.sha).toBe(await git(w.worktree, "rev-parse", "HEAD"));
    expect(await git(w.worktree, "log", "-1", "--format=%an <%ae>|%cn <%ce>")).toBe(
      "forgehand[bot] <bot@forgehand.test>|forgehand[bot] <bot@forgehand.test>",
    );
    expect(await git(w.worktree, "log", "-1", "--format=%B")).toBe(message);
    expect(await git(w.worktree, "show", "--name-status", "--format=", "HEAD")).toBe("D\tREADME.md\nA\tfeature.ts");
    expect(await ws.commitAll(w.worktree, "again")).toEqual({ committed: false });
  });

  it("pushes the branch to the origin, and a later prepare continues from it", async () => {
    const w = await ws.prepare({ repo, issue: 12, title: "push it", credentials: null });
    await writeFile(join(w.worktree, "a.txt"), "1\n");
    const c1 = await ws.commitAll(w.worktree, "one");
    await ws.push(w.worktree, w.branch, repo, null);
    expect(await origin.git("log", "-1", "--format=%H %an", "refs/heads/forgehand/12-push-it")).toBe(
      `${c1.sha} forgehand[bot]`,
    );
    // A second push from the same worktree is a fast-forward on our own lease.
    await writeFile(join(w.worktree, "a.txt"), "2\n");
    const c2 = await ws.commitAll(w.worktree, "two");
    await ws.push(w.worktree, w.branch, repo, null);
    expect(await origin.git("rev-parse", "refs/heads/forgehand/12-push-it")).toBe(c2.sha);

    await ws.remove(w.worktree);
    expect(await exists(w.worktree)).toBe(false);
    const again = await ws.prepare({ repo, issue: 12, title: "push it", credentials: null });
    expect(again).toMatchObject({ continued: true, startSha: c2.sha, branch: w.branch });
    expect(await readFile(join(again.worktree, "a.txt"), "utf8")).toBe("2\n");
  });

  it("keeps a commit that was never pushed under refs/forgehand/unpublished when the next prepare resets", async () => {
    const mirror = join(dir, "data", "mirrors", "gitea", "acme", "widgets.git");
    const w = await ws.prepare({ repo, issue: 14, title: "unpushed", credentials: null });
    await writeFile(join(w.worktree, "work.txt"), "the agent's work\n");
    const lost = await ws.commitAll(w.worktree, "work that could not be pushed");
    const again = await ws.prepare({ repo, issue: 14, title: "unpushed", credentials: null });
    // The worktree starts from the remote again, as every runner would...
    expect(await git(again.worktree, "rev-parse", "HEAD")).toBe(again.baseSha);
    expect(await exists(join(again.worktree, "work.txt"))).toBe(false);
    // ...and the commit is still there, named.
    const ref = `refs/forgehand/unpublished/14/${lost.sha}`;
    expect(await git(mirror, "rev-parse", ref)).toBe(lost.sha);
    expect(await git(mirror, "show", `${ref}:work.txt`)).toBe("the agent's work");

    // A pushed commit, or none at all, keeps nothing.
    await writeFile(join(again.worktree, "pushed.txt"), "pushed\n");
    await ws.commitAll(again.worktree, "pushed");
    await ws.push(again.worktree, again.branch, repo, null);
    await ws.prepare({ repo, issue: 14, title: "unpushed", credentials: null });
    await ws.prepare({ repo, issue: 14, title: "unpushed", credentials: null });
    expect((await git(mirror, "for-each-ref", "--format=%(refname)", "refs/forgehand/")).split("\n")).toEqual([ref]);
  });

  it("refuses to overwrite a commit someone else pushed to the branch meanwhile", async () => {
    const w = await ws.prepare({ repo, issue: 13, title: "lease", credentials: null });
    await writeFile(join(w.worktree, "mine.txt"), "mine\n");
    await ws.commitAll(w.worktree, "mine");
    const theirs = await origin.commit({ "theirs.txt": "theirs\n" }, "theirs", w.branch);
    await expect(ws.push(w.worktree, w.branch, repo, null)).rejects.toThrow(/\[workspace\] `git push/);
    await expect(ws.push(w.worktree, "main", repo, null)).rejects.toThrow(/Refusing to push `main`/);
    expect(await origin.git("rev-parse", `refs/heads/${w.branch}`)).toBe(theirs);
  });
});

describe("remove", () => {
  it("removes the worktree and its registration, and refuses paths outside the data dir", async () => {
    const w = await ws.prepare({ repo, issue: 14, title: "bye", credentials: null });
    await ws.remove(w.worktree);
    const mirror = join(dir, "data", "mirrors", "gitea", "acme", "widgets.git");
    expect(await exists(w.worktree)).toBe(false);
    expect(await git(mirror, "worktree", "list", "--porcelain")).not.toContain("/14");
    expect(await git(mirror, "branch", "--list", "forgehand/*")).toBe("");
    await ws.remove(w.worktree); // idempotent
    await expect(ws.remove(dir)).rejects.toThrow(/Not a forgehand worktree/);
    await expect(ws.remove(join(dir, "data", "worktrees", "..", "..", "etc", "x", "y", "1"))).rejects.toThrow(
      /Not a forgehand worktree/,
    );
  });
});

describe("parseFetchHead", () => {
  it("maps branch names to shas and skips anything else", () => {
    const a = "a".repeat(40);
    const b = "b".repeat(40);
    const text = [
      `${a}\t\tbranch 'main' of https://example.test/acme/widgets`,
      `${b}\tnot-for-merge\tbranch 'forgehand/12-it's odd' of /srv/o`,
      `${a}\t\ttag 'v1' of /srv/o`,
      "garbage",
      "",
    ].join("\n");
    expect([...parseFetchHead(text)]).toEqual([
      ["main", a],
      ["forgehand/12-it's odd", b],
    ]);
  });
});
