import type { IssueRef, RepoRef } from "@forgehand/core";
import { createGiteaClient, createGitHubClient } from "@forgehand/forge";
import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "../../../test/support/forge-emulator";
import { loadPullRequestValues, PR_DIFF_MAX } from "./pr-template-values";
import { renderPrompt } from "./render-prompt";
import { MemoryForge } from "./testing/memory-forge";

let emu: ForgeEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const DIFF = "diff --git a/src/app.ts b/src/app.ts\n--- a/src/app.ts\n+++ b/src/app.ts\n@@ -1 +1 @@\n-old\n+new\n";

describe.each(["github", "gitea"] as const)("{{pr.diff}} and {{pr.reviewComments}} from the %s client", (flavour) => {
  it("fills both for a PR, from the forge's API, inside untrusted blocks", async () => {
    emu = await startForgeEmulator({ flavour });
    emu.addRepo("acme/app");
    const number = emu.addPull("acme/app", { head: "feature", title: "Fix it", diff: DIFF });
    emu.addReviewComment("acme/app", number, { author: "alice", path: "src/app.ts", line: 1, body: "why new?" });
    const forge =
      flavour === "github"
        ? createGitHubClient({ apiUrl: emu.apiUrl, token: "test-token", throttle: false })
        : createGiteaClient({ url: emu.url, token: "test-token" });
    const repo: RepoRef = { forge: flavour, fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" };
    const ref: IssueRef = { repo, number, isPr: true };
    const issue = await forge.getIssue(ref);
    const pr = await loadPullRequestValues(forge, ref, issue, new Set(["pr.diff", "pr.reviewComments"]));
    expect(pr.diff).toBe(DIFF);
    expect(pr.reviewComments).toBe("@alice on src/app.ts:1:\nwhy new?");
    const out = renderPrompt("D={{pr.diff}}\nR={{pr.reviewComments}}", {
      issue,
      repo: "acme/app",
      stage: "review",
      branch: "feature",
      context: { pr },
    });
    expect(out).toContain('D=<untrusted source="pull request diff">\ndiff --git a/src/app.ts b/src/app.ts');
    expect(out).toContain("+new");
    expect(out).not.toContain("(empty diff)");
  });
});

describe("loadPullRequestValues", () => {
  it("reads only what the template uses, and cuts a large diff", async () => {
    const forge = new MemoryForge();
    const issue = forge.addIssue({ number: 7, isPr: true, title: "T" });
    forge.diffs.set(7, `${"+x\n".repeat(PR_DIFF_MAX)}`);
    const repo: RepoRef = { forge: "github", fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" };
    const ref: IssueRef = { repo, number: 7, isPr: true };
    await loadPullRequestValues(forge, ref, issue, new Set(["pr.title"]));
    expect(forge.calls.map((c) => c.method)).toEqual([]);
    const pr = await loadPullRequestValues(forge, ref, issue, new Set(["pr.diff"]));
    expect(forge.calls.map((c) => c.method)).toEqual(["getPullRequestDiff"]);
    expect(pr.diff.length).toBeLessThan(PR_DIFF_MAX + 200);
    expect(pr.diff).toMatch(/\[diff cut: \d+ characters in all; run `git diff` for the rest\]$/);
  });
});
