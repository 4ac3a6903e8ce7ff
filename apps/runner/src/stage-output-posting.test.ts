import type { IssueRef } from "@forgehand/core";
import type { ForgeClient, ForgeComment } from "@forgehand/forge";
import { describe, expect, it } from "vitest";
import { branchCompareUrl, relativeToWorktree } from "./branch-link";
import { outputMarker, postStageOutput } from "./post-stage-output";
import { pullRequestBody } from "./pull-request-body";

const ref = {
  repo: {
    forge: "github",
    fullName: "acme/app",
    owner: "acme",
    name: "app",
    cloneUrl: "https://github.com/acme/app.git",
  },
  number: 7,
  isPr: false,
} as IssueRef;
const SECRET = "ghp_s3cretS3cretS3cretS3cretS3cret0001";
const redact = (t: string) => t.split(SECRET).join("[REDACTED]");

/** A forge that keeps comments in memory: only what posting uses. */
function memoryForge() {
  const comments: ForgeComment[] = [];
  const forge = {
    forge: "github",
    async findCommentByMarker(_ref: IssueRef, marker: string) {
      return comments.find((c) => c.body.includes(marker)) ?? null;
    },
    async createComment(_ref: IssueRef, body: string) {
      const c = { id: comments.length + 1, body, author: "bot" };
      comments.push(c);
      return c;
    },
    async updateComment(_repo: unknown, id: number, body: string) {
      const c = comments.find((x) => x.id === id);
      if (c) c.body = body;
    },
  } as unknown as ForgeClient;
  return { forge, comments };
}

describe("posting a stage's output", () => {
  it("`comment` posts one comment, Markdown kept, redacted and inert; a repeat edits it; `summary` posts nothing", async () => {
    const { forge, comments } = memoryForge();
    const output = `## Plan\n\n1. edit \`a.ts\` @alice\n<!-- forgehand:run=x -->${SECRET}`;
    const input = { forge, ref, stage: "analyse", runId: "r1", output, redact };
    await postStageOutput("summary", input);
    expect(comments).toHaveLength(0);
    await postStageOutput("comment", input);
    await postStageOutput("comment", { ...input, output: `${output}\nmore` });
    expect(comments).toHaveLength(1);
    const body = comments[0]!.body;
    expect(body.startsWith(outputMarker("r1"))).toBe(true);
    expect(body).toContain("## Plan\n\n1. edit `a.ts` @\u200balice");
    expect(body).not.toContain(SECRET);
    expect(body).not.toContain("forgehand:run=x");
    expect(body).toContain("more");
    // `review` is posted by publish-result (a PR review, or a comment on an issue), never a second time here.
    await postStageOutput("review", { ...input, runId: "r2" });
    expect(comments).toHaveLength(1);
  });

  it("builds the PR body from the summary, Closes #N and who asked", () => {
    const job = {
      runId: "r9",
      ref,
      trigger: { kind: "label", by: "alice", deliveryId: "d" },
    } as Parameters<typeof pullRequestBody>[0]["job"];
    const body = pullRequestBody({ job, stage: "develop", output: `Changed a.ts. cc @bob ${SECRET}`, redact });
    expect(body).toBe(
      "## Summary\n\nChanged a.ts. cc @\u200bbob [REDACTED]\n\nCloses #7\n\nRequested by @alice (label) · opened by forgehand, stage `develop` (run `r9`).",
    );
    expect(pullRequestBody({ job, stage: "develop", output: undefined, redact })).toMatch(/^Closes #7\n/);
  });

  it("links the branch's compare view from an http(s) clone URL only, without credentials", () => {
    expect(branchCompareUrl("https://x:tok@github.com/acme/app.git", "main", "forgehand/7-a b")).toBe(
      "https://github.com/acme/app/compare/main...forgehand/7-a%20b",
    );
    expect(branchCompareUrl("git@github.com:acme/app.git", "main", "b")).toBeUndefined();
    expect(branchCompareUrl("file:///srv/origin.git", "main", "b")).toBeUndefined();
  });

  it("shows action paths relative to the worktree", () => {
    const wt = "/srv/forgehand/.forgehand/workspaces/worktrees/github/acme/app/7";
    expect(relativeToWorktree(`Edit ${wt}/src/checkout.ts`, wt)).toBe("Edit src/checkout.ts");
    expect(relativeToWorktree(`Bash cd ${wt} && ls`, `${wt}/`)).toBe("Bash cd . && ls");
    expect(relativeToWorktree("Read /etc/passwd", wt)).toBe("Read /etc/passwd");
  });
});
