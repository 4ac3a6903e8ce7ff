import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RepoRef } from "@forgehand/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGitOrigin, type GitOrigin } from "./create-git-origin";
import { HeadMovedError } from "./pull-request-head";
import { createWorkspaces, type Workspaces } from "./workspaces";

// A PR stage's workspace: the worktree starts on the PR's head (same repository: its branch; fork:
// refs/pull/N/head), a push goes to the head branch with a lease on the tip it started from, and a fork's
// head is never pushed. Real git, a real bare origin.
let dir: string;
let origin: GitOrigin;
let repo: RepoRef;
let ws: Workspaces;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fh-prws-"));
  origin = await createGitOrigin(dir);
  repo = { forge: "github", fullName: "acme/widgets", owner: "acme", name: "widgets", cloneUrl: origin.path };
  ws = createWorkspaces({
    rootDir: join(dir, "data"),
    author: { name: "bot", email: "b@t" },
    branchPrefix: "forgehand",
  });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = async (ref: string) => (await origin.git("rev-parse", ref)).trim();

describe("pull request workspaces", () => {
  it("starts on a same-repo PR's head branch and pushes a commit to it", async () => {
    const head = await origin.commit({ "feature.txt": "v1\n" }, "feature work", "feature/login");
    const prepared = await ws.prepare({
      repo,
      issue: 7,
      title: "ignored for PRs",
      credentials: null,
      pullRequest: { number: 7, headBranch: "feature/login", headSha: head },
    });
    expect(prepared).toMatchObject({ branch: "feature/login", startSha: head, continued: true });
    expect(await readFile(join(prepared.worktree, "feature.txt"), "utf8")).toBe("v1\n");
    await writeFile(join(prepared.worktree, "feature.txt"), "v2\n");
    const commit = await ws.commitAll(prepared.worktree, "stage: review fixes");
    await ws.push(prepared.worktree, prepared.branch, repo, null);
    expect(await sha("refs/heads/feature/login")).toBe(commit.sha);
    // No second branch of the bot's appeared on the origin.
    expect((await origin.git("for-each-ref", "--format=%(refname)", "refs/heads/forgehand")).trim()).toBe("");
  });

  it("fails the push clearly when the head moved meanwhile, and leaves the new head alone", async () => {
    const head = await origin.commit({ "feature.txt": "v1\n" }, "feature work", "feature");
    const prepared = await ws.prepare({
      repo,
      issue: 7,
      title: "x",
      credentials: null,
      pullRequest: { number: 7, headBranch: "feature", headSha: head },
    });
    await writeFile(join(prepared.worktree, "feature.txt"), "bot\n");
    await ws.commitAll(prepared.worktree, "stage");
    const theirs = await origin.commit({ "feature.txt": "human\n" }, "human pushed", "feature");
    const push = ws.push(prepared.worktree, prepared.branch, repo, null);
    await expect(push).rejects.toBeInstanceOf(HeadMovedError);
    await expect(push).rejects.toThrow(/head branch `feature` moved while the stage ran/);
    expect(await sha("refs/heads/feature")).toBe(theirs);
  });

  it("checks out a fork PR from refs/pull/N/head and never pushes it", async () => {
    const forkSha = await origin.commit({ "fork.txt": "from a fork\n" }, "fork work", "scratch-fork");
    await origin.git("update-ref", "refs/pull/9/head", forkSha);
    await origin.git("update-ref", "-d", "refs/heads/scratch-fork");
    const prepared = await ws.prepare({
      repo,
      issue: 9,
      title: "x",
      credentials: null,
      pullRequest: { number: 9, headSha: forkSha },
    });
    expect(prepared).toMatchObject({ branch: "pull/9/head", startSha: forkSha });
    expect(await readFile(join(prepared.worktree, "fork.txt"), "utf8")).toBe("from a fork\n");
    await writeFile(join(prepared.worktree, "fork.txt"), "changed\n");
    await ws.commitAll(prepared.worktree, "stage");
    await expect(ws.push(prepared.worktree, prepared.branch, repo, null)).rejects.toThrow(/Refusing to push/);
    await expect(ws.push(prepared.worktree, "main", repo, null)).rejects.toThrow(/Refusing to push `main`/);
    expect(await sha("refs/pull/9/head")).toBe(forkSha);
  });

  it("an issue worktree prepared after a PR one cannot push to the PR's head", async () => {
    const head = await origin.commit({ "f.txt": "1\n" }, "f", "feature");
    const pr = { number: 5, headBranch: "feature", headSha: head };
    await ws.prepare({ repo, issue: 5, title: "x", credentials: null, pullRequest: pr });
    const again = await ws.prepare({ repo, issue: 5, title: "x", credentials: null });
    await writeFile(join(again.worktree, "f.txt"), "2\n");
    await ws.commitAll(again.worktree, "stage");
    await expect(ws.push(again.worktree, "feature", repo, null)).rejects.toThrow(/Refusing to push `feature`/);
  });

  it("names a head branch that is gone", async () => {
    await expect(
      ws.prepare({
        repo,
        issue: 3,
        title: "x",
        credentials: null,
        pullRequest: { number: 3, headBranch: "deleted", headSha: "a".repeat(40) },
      }),
    ).rejects.toThrow(/Pull request #3's head branch `deleted` is not on the remote/);
  });

  it("refuses a head branch name git could read as a flag", async () => {
    await expect(
      ws.prepare({
        repo,
        issue: 3,
        title: "x",
        credentials: null,
        pullRequest: { number: 3, headBranch: "--upload-pack=touch /tmp/x", headSha: "a".repeat(40) },
      }),
    ).rejects.toThrow(/pullRequest.headBranch/);
  });
});
