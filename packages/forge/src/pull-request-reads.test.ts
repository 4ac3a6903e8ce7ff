import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RepoRef } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "../../../test/support/forge-emulator";
import { ForgeApiError } from "./forge-api-error";
import type { ForgeClient } from "./forge-client";
import { createGiteaClient } from "./gitea-client";
import { createGitHubClient } from "./github-client";
import { REVIEW_COMMENTS_MAX } from "./review-comments-max";

// getPullRequestDiff and listPullRequestReviewComments of both clients against the emulator, whose
// diff is git's own (`git diff main...head` of a real bare origin) and whose review-comment shapes are
// held to GitHub's OpenAPI schema and Gitea's swagger types.
const git = (args: string[], cwd?: string) => {
  const out = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd, encoding: "utf8" });
  if (out.status !== 0) throw new Error(`git ${args.join(" ")}: ${out.stderr}`);
  return out.stdout.trim();
};

let emu: ForgeEmulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A bare origin: `main` with `a`, branch `feature` adding `src/changed.ts` and editing `a`. */
function origin(): string {
  dir = mkdtempSync(join(tmpdir(), "fh-prreads-"));
  const bare = join(dir, "origin.git");
  const work = join(dir, "work");
  git(["init", "-q", "--bare", "--initial-branch=main", bare]);
  git(["init", "-q", "--initial-branch=main", work]);
  writeFileSync(join(work, "a"), "one\n");
  git(["add", "."], work);
  git(["commit", "-qm", "one"], work);
  git(["push", "-q", bare, "HEAD:refs/heads/main"], work);
  git(["checkout", "-qb", "feature"], work);
  spawnSync("mkdir", ["-p", join(work, "src")]);
  writeFileSync(join(work, "src", "changed.ts"), "export const x = 1;\n");
  writeFileSync(join(work, "a"), "two\n");
  git(["add", "."], work);
  git(["commit", "-qm", "feature"], work);
  git(["push", "-q", bare, "HEAD:refs/heads/feature"], work);
  return bare;
}

describe.each(["github", "gitea"] as const)("%s client: a PR's diff and review comments", (flavour) => {
  async function setup(): Promise<{ client: ForgeClient; repo: RepoRef; emu: ForgeEmulator }> {
    const e = await startForgeEmulator({ flavour, gitRepos: { "acme/app": origin() } });
    emu = e;
    e.addRepo("acme/app");
    e.addPull("acme/app", { head: "feature", title: "Feature" });
    const client =
      flavour === "github"
        ? createGitHubClient({ apiUrl: e.apiUrl, token: "test-token", throttle: false })
        : createGiteaClient({ url: e.url, token: "test-token" });
    const repo: RepoRef = { forge: flavour, fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" };
    return { client, repo, emu: e };
  }

  it("reads the diff as text: git's own `main...feature`, with the changed files", async () => {
    const { client, repo } = await setup();
    const diff = await client.getPullRequestDiff(repo, 1);
    expect(diff).toContain("diff --git a/src/changed.ts b/src/changed.ts");
    expect(diff).toContain("+export const x = 1;");
    expect(diff).toContain("-one\n+two");
    const bare = join(dir ?? "", "origin.git");
    expect(diff).toBe(`${git(["--git-dir", bare, "diff", "main...feature"])}\n`);
  });

  it("reads a stored diff byte for byte (a diff is forge data: no parsing, no JSON)", async () => {
    const { client, repo, emu } = await setup();
    const raw = '{"not": "json"}\n+`$(rm -rf /)`\n';
    const n = emu.addPull("acme/app", { head: "other", title: "Stored", diff: raw });
    expect(await client.getPullRequestDiff(repo, n)).toBe(raw);
  });

  it("lists review comments oldest first, with author, path and line, across reviews", async () => {
    const { client, repo, emu } = await setup();
    const first = emu.addReviewComment("acme/app", 1, { author: "alice", path: "a", line: 1, body: "why two?" });
    emu.addReviewComment("acme/app", 1, { author: "bob", path: "src/changed.ts", line: 1, body: "name x better" });
    emu.addReviewComment("acme/app", 1, { author: "alice", path: "a", body: "whole file", review: first.review });
    const comments = await client.listPullRequestReviewComments(repo, 1);
    expect(comments.map(({ id: _id, ...c }) => c)).toEqual([
      { author: "alice", path: "a", line: 1, body: "why two?" },
      { author: "bob", path: "src/changed.ts", line: 1, body: "name x better" },
      { author: "alice", path: "a", body: "whole file" },
    ]);
    expect(comments[0]?.id).toBe(first.id);
  });

  it(`keeps the ${REVIEW_COMMENTS_MAX} most recent of many comments, oldest first, in bounded requests`, async () => {
    const { client, repo, emu } = await setup();
    for (let i = 1; i <= 150; i++) emu.addReviewComment("acme/app", 1, { author: "u", path: "a", body: `c${i}` });
    const before = emu.calls.length;
    const comments = await client.listPullRequestReviewComments(repo, 1);
    expect(comments).toHaveLength(REVIEW_COMMENTS_MAX);
    expect(comments[0]?.body).toBe("c51");
    expect(comments.at(-1)?.body).toBe("c150");
    const calls = emu.calls.slice(before);
    // GitHub: one page of 100, newest first. Gitea: 3 pages of reviews, then only the newest 100 reviews.
    if (flavour === "github") expect(calls).toHaveLength(1);
    else expect(calls.filter((c) => c.path.endsWith("/comments"))).toHaveLength(REVIEW_COMMENTS_MAX);
  });

  it("a missing PR is a ForgeApiError with status 404 from both reads", async () => {
    const { client, repo } = await setup();
    for (const read of [
      () => client.getPullRequestDiff(repo, 99),
      () => client.listPullRequestReviewComments(repo, 99),
    ]) {
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForgeApiError);
      expect((error as ForgeApiError).status).toBe(404);
    }
  });
});
