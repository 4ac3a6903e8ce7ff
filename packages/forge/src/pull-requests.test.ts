import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RepoRef } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "../../../test/support/forge-emulator";
import type { ForgeClient } from "./forge-client";
import { createGiteaClient } from "./gitea-client";
import { createGitHubClient } from "./github-client";

// getPullRequest and createReview of both clients, against the emulator (shapes held to each forge's
// API description) with a real bare repository behind it, so head shas are git's own.
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

/** A bare origin with `main`, a same-repo branch `feature` and a fork head at `refs/pull/2/head`. */
function origin() {
  dir = mkdtempSync(join(tmpdir(), "fh-pulls-"));
  const bare = join(dir, "origin.git");
  const work = join(dir, "work");
  git(["init", "-q", "--bare", "--initial-branch=main", bare]);
  git(["init", "-q", "--initial-branch=main", work]);
  writeFileSync(join(work, "a"), "a");
  git(["add", "."], work);
  git(["commit", "-qm", "one"], work);
  git(["push", "-q", bare, "HEAD:refs/heads/main", "HEAD:refs/heads/feature"], work);
  writeFileSync(join(work, "b"), "b");
  git(["add", "."], work);
  git(["commit", "-qm", "fork"], work);
  git(["push", "-q", bare, "HEAD:refs/pull/2/head"], work);
  return { bare, feature: git(["rev-parse", "HEAD~1"], work), fork: git(["rev-parse", "HEAD"], work) };
}

describe.each(["github", "gitea"] as const)("%s client: pull requests", (flavour) => {
  async function setup(): Promise<{ client: ForgeClient; repo: RepoRef; shas: ReturnType<typeof origin> }> {
    const shas = origin();
    emu = await startForgeEmulator({ flavour, gitRepos: { "acme/app": shas.bare } });
    emu.addRepo("acme/app");
    emu.addPull("acme/app", { head: "feature", title: "Same repo" });
    emu.addPull("acme/app", { head: "patch-1", headRepo: "mallory/app", author: "mallory", title: "From a fork" });
    const client =
      flavour === "github"
        ? createGitHubClient({ apiUrl: emu.apiUrl, token: "test-token", throttle: false })
        : createGiteaClient({ url: emu.url, token: "test-token" });
    const repo: RepoRef = { forge: flavour, fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" };
    return { client, repo, shas };
  }

  it("reads a same-repo PR's head branch and sha, and a fork PR as a fork", async () => {
    const { client, repo, shas } = await setup();
    expect(await client.getPullRequest(repo, 1)).toMatchObject({
      number: 1,
      state: "open",
      merged: false,
      head: { ref: "feature", sha: shas.feature, repoFullName: "acme/app" },
      base: { ref: "main", repoFullName: "acme/app" },
      fork: false,
    });
    expect(await client.getPullRequest(repo, 2)).toMatchObject({
      head: { ref: "patch-1", sha: shas.fork, repoFullName: "mallory/app" },
      fork: true,
    });
    expect(emu?.calls.some((c) => c.method === "GET" && c.path === "/repos/acme/app/pulls/2" && c.status === 200)).toBe(
      true,
    );
  });

  it("a missing PR is a 404 ForgeApiError", async () => {
    const { client, repo } = await setup();
    await expect(client.getPullRequest(repo, 99)).rejects.toMatchObject({ name: "ForgeApiError", status: 404 });
  });

  it("posts a COMMENT review with the body as given", async () => {
    const { client, repo } = await setup();
    const review = await client.createReview(repo, 1, "Looks fine.\n\n- one nit");
    expect(review.id).toBeGreaterThan(0);
    const stored = emu?.state.repos.get("acme/app")?.reviews ?? [];
    expect(stored).toEqual([expect.objectContaining({ pull: 1, body: "Looks fine.\n\n- one nit", event: "COMMENT" })]);
    const call = emu?.calls.find((c) => c.method === "POST" && c.path === "/repos/acme/app/pulls/1/reviews");
    expect(call?.body).toEqual({ body: "Looks fine.\n\n- one nit", event: "COMMENT" });
  });
});
