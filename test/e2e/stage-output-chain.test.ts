import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { byPromptScript, userText } from "../support/model-server";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Issue 14 items 1–2: the shipped analyse and develop prompts, run through the real `forgehand start`: the
// analysis is posted as its own comment, reaches develop's prompt as {{previous.output}} (as the model
// server received it), and develop's final message is the PR body's summary.
const PROMPTS = join(import.meta.dirname, "../../examples/prompts");
const PLAN = "PLAN-7731: add hello.txt holding a greeting; @everyone look";
const DONE = "SUMMARY-5512: added hello.txt with a greeting.";
const VERDICT = "VERDICT-3310: looks right; hello.txt greets.";

let world: E2eWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

describe.each(["github", "gitea"] as const)("e2e (%s): stage output carried to the next stage", (forge) => {
  it("analyse → develop → review: the analysis posted and in develop's prompt, the summary in the PR body, a review on that PR", {
    timeout: 300_000,
  }, async () => {
    let worktreeOf = () => "";
    world = await startE2eWorld({
      forge,
      script: byPromptScript({
        "You are analysing issue": () => ({ text: PLAN }),
        // Claude Code 2.1.332's system prompt no longer names the working directory the way the model server
        // reads it (writeFileScript): the worktree's path is known, so the script writes there directly.
        "You are implementing issue": (_req, ctx) =>
          ctx.toolResults > 0
            ? { text: DONE }
            : { toolUse: { name: "Write", input: { file_path: join(worktreeOf(), "hello.txt"), content: "hello\n" } } },
        "You are reviewing the changes": () => ({ text: VERDICT }),
      }),
      stages: [
        {
          name: "analyse",
          label: "agent:analyse",
          prompt: join(PROMPTS, "analyse.md"),
          output: "comment",
          next: "develop",
        },
        {
          name: "develop",
          label: "agent:develop",
          prompt: join(PROMPTS, "develop.md"),
          gate: ["test", "-f", "hello.txt"],
          openPullRequest: true,
          next: "review",
        },
        { name: "review", label: "agent:review", prompt: join(PROMPTS, "review.md"), output: "review" },
      ],
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2e14"),
    });
    const w = world;
    const issue = w.openIssue("Greet people", "Please greet people.");
    worktreeOf = () => join(w.dir, "data/workspaces/worktrees", forge, "acme/widgets", String(issue));
    await w.addLabel(issue, "agent:analyse", "alice");
    const runs = await waitFor(
      "analyse, develop and review to end",
      async () => {
        const all = await w.runs();
        return all.filter((r) => r.state !== "queued" && r.state !== "running").length >= 3 ? all : undefined;
      },
      { timeoutMs: 220_000, intervalMs: 500 },
    );
    for (const r of runs.filter((x) => x.state !== "succeeded")) {
      const res = await fetch(`${w.forgehand.url}/api/runs/${r.id}/log`, {
        headers: { authorization: "Bearer e2e-api-token" },
      });
      console.error(`run ${r.stage} log:\n${(await res.text()).slice(-6000)}`);
    }
    expect(runs.map((r) => `${r.stage}:${r.state}:${r.reason ?? ""}`).sort()).toEqual([
      "analyse:succeeded:",
      "develop:succeeded:",
      "review:succeeded:",
    ]);
    const analyse = runs.find((r) => r.stage === "analyse");
    expect(analyse?.output).toBe(PLAN);

    // The analysis, as its own comment: Markdown kept, the mention made inert.
    const posted = w.comments(issue).filter((c) => c.body.includes("PLAN-7731"));
    expect(posted).toHaveLength(1);
    expect(posted[0]!.body).toContain("`analyse` output");
    expect(posted[0]!.body).toContain("@\u200beveryone");
    expect(posted[0]!.body).not.toContain("@everyone");

    // develop's first request to the model carries the analysis, inside an untrusted block.
    const developRequest = w.model
      .mainRequests()
      .map((r) => userText(r.body as Parameters<typeof userText>[0]))
      .find((t) => t.includes("You are implementing issue"));
    expect(developRequest).toBeDefined();
    expect(developRequest).toContain(`<untrusted source="output of stage analyse">\n${PLAN}\n</untrusted>`);
    expect(developRequest).not.toMatch(/\{\{[^}]*\}\}/);

    // The PR body: develop's summary, Closes #N, and who asked.
    const pulls = w.emulator.state.repos.get("acme/widgets")!.pulls;
    expect(pulls).toHaveLength(1);
    const body = (pulls[0] as unknown as { body: string }).body;
    expect(body).toContain(DONE);
    expect(body).toContain(`Closes #${issue}`);
    // develop was started by the bot's own label (the chain), so it names the bot.
    expect(body).toMatch(/Requested by @forgehand-bot \(label\)/);

    // develop's final status comment: the headline, and its summary.
    await waitFor("develop's final status comment", () =>
      w.statusComments(issue).find((b) => b.includes("`develop` succeeded") && b.includes(DONE)),
    );
    const final = w.statusComments(issue).find((b) => b.includes("`develop` succeeded"))!;
    expect(final).toMatch(
      /### ✅ `develop` succeeded for @forgehand-bot in \S+.* · \d+ tool turns? · \$\d+\.\d\d — \[PR #\d+\]/,
    );
    expect(final).toContain("#### Summary");
    expect(final).not.toContain("/workspaces/");
    // review ran on the issue (the chain's label) and reviewed the PR develop opened: a review there, not a comment.
    const reviews = w.emulator.state.repos.get("acme/widgets")!.reviews;
    expect(reviews.map((r) => r.body).filter((b) => b.includes("VERDICT-3310"))).toHaveLength(1);
    expect(reviews[0]).toMatchObject({ pull: (pulls[0] as unknown as { number: number }).number, event: "COMMENT" });
    expect(
      w.comments(issue).filter((c) => c.body.includes("VERDICT-3310") && !c.body.includes("forgehand:run=")),
    ).toEqual([]);
    expect(w.survivors()).toEqual([]);
  });
});
