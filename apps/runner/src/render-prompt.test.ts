import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stage } from "@forgehand/core";
import { describe, expect, it } from "vitest";
import { loadPromptTemplate, renderPrompt } from "./render-prompt";

const issue = {
  number: 12,
  title: "Crash on {{repo}}",
  body: "Body with {{issue.title}} and $(whoami)",
  state: "open" as const,
  isPr: false,
  labels: ["bug", "agent:develop"],
  comments: [
    { id: 1, author: "bob", body: "first" },
    { id: 2, author: "eve", body: "second" },
  ],
};

describe("prompt templates", () => {
  it("substitutes every documented placeholder once, never re-scanning issue text", () => {
    const out = renderPrompt(
      "T={{issue.title}} B={{issue.body}} N={{ issue.number }} L={{issue.labels}} R={{repo}} S={{stage}} BR={{branch}} X={{nope}}\n{{issue.comments}}",
      { issue, repo: "acme/app", stage: "develop", branch: "forgehand/12-crash" },
    );
    expect(out).toBe(
      "T=Crash on {{repo}} B=Body with {{issue.title}} and $(whoami) N=12 L=bug, agent:develop R=acme/app S=develop BR=forgehand/12-crash X={{nope}}\n@bob:\nfirst\n\n---\n\n@eve:\nsecond",
    );
  });

  it("loads inline templates and files relative to the config dir, naming a missing file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fh-prompt-"));
    writeFileSync(join(dir, "p.md"), "from file {{stage}}");
    const stage = (prompt: string) => ({ name: "develop", prompt }) as Stage;
    expect(await loadPromptTemplate(stage("inline:hello {{repo}}"), dir)).toBe("hello {{repo}}");
    expect(await loadPromptTemplate(stage("p.md"), dir)).toBe("from file {{stage}}");
    await expect(loadPromptTemplate(stage("missing.md"), dir)).rejects.toThrow(/\[runner\].*develop.*missing\.md/);
  });
});
