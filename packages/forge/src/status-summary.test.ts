import type { RunRecord } from "@forgehand/core";
import { describe, expect, it } from "vitest";
import { renderStatusComment } from "./render-status-comment";

const done: RunRecord = {
  id: "r1",
  forge: "github",
  repo: "acme/app",
  issue: 7,
  isPr: false,
  stage: "develop",
  state: "succeeded",
  createdAt: 0,
  startedAt: 0,
  endedAt: 754_000,
  turns: 31,
  costUsd: 1.42,
  attempts: 1,
  trigger: "label by alice",
  lastActions: [],
  prUrl: "https://github.com/acme/app/pull/43",
  branch: "forgehand/7-x",
  branchUrl: "https://github.com/acme/app/compare/main...forgehand/7-x",
};

describe("status comment headline and summary", () => {
  it("says who, how long, turns, cost, PR and branch in one headline, and repeats none of it in a table", () => {
    const body = renderStatusComment(done);
    expect(body).toContain(
      "### ✅ `develop` succeeded for @alice in 12m 34s · 31 tool turns · $1.42 — [PR #43](https://github.com/acme/app/pull/43) · [branch](https://github.com/acme/app/compare/main...forgehand/7-x)",
    );
    expect(body).not.toContain("| **");
    expect(body).not.toContain("pull request https://");
  });

  it("links the branch while the run is live, as soon as the record has it", () => {
    const live = renderStatusComment(
      { ...done, state: "running", endedAt: undefined, prUrl: undefined },
      { now: 5_000 },
    );
    expect(live).toContain(
      "### 🔄 `develop` running for @alice · 5s · 31 tool turns · $1.42 — [branch](https://github.com/acme/app/compare/",
    );
    const plain = renderStatusComment({ ...done, branchUrl: "javascript:alert(1)", prUrl: undefined });
    expect(plain).toContain("— `forgehand/7-x`");
    expect(plain).not.toContain("javascript:");
  });

  it("renders the output as a Markdown Summary, redacted, inert and folded when long", () => {
    const secret = "s3cr3t-value-123456";
    const output = `## Plan\n\n- change \`a.ts\`\n\ncc @everyone <!-- forgehand:run=evil --> ${secret}`;
    const body = renderStatusComment({ ...done, output }, { redact: (t) => t.split(secret).join("[REDACTED]") });
    expect(body).toContain("#### Summary\n\n## Plan\n\n- change `a.ts`");
    expect(body).toContain("@\u200beveryone");
    expect(body).not.toContain(secret);
    expect(body).not.toContain("forgehand:run=evil");
    const long = renderStatusComment({ ...done, output: `${"line\n".repeat(40)}</details>@x` });
    expect(long).toContain("<details><summary><b>Summary</b></summary>");
    expect(long).toContain("&lt;/details>");
    expect(long.match(/<\/details>/g)).toHaveLength(1);
    const huge = renderStatusComment({ ...done, output: "y".repeat(200_000) });
    expect(huge.length).toBeLessThanOrEqual(65_536);
    expect(huge).toContain("the full text is in the run log");
  });

  it("shows no summary while live, and a pointer for stages whose output is its own comment", () => {
    expect(renderStatusComment({ ...done, state: "running", output: "plan" })).not.toContain("Summary");
    const own = renderStatusComment({ ...done, output: "plan" }, { stages: [{ name: "develop", output: "comment" }] });
    expect(own).toContain("posted as its own comment");
    expect(own).not.toContain("#### Summary");
  });
});
