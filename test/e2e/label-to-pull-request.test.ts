import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { writeFileScript } from "../support/model-server";
import { plainText } from "./harness/plain-text";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Scenario 1 (issue 7): agent:develop label → Claude writes a file → gate passes → commit pushed on
// forgehand/<issue>-<slug> → PR opened → status comment ends `succeeded` with turns and cost.
let world: E2eWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

describe("e2e: label → agent → commit, PR, status comment", () => {
  // `discover`: FORGEHAND_GITHUB_LOGIN unset, so forgehand must ask the forge who it is; otherwise the
  // echo of its own label removal would come back as a stop request against its finishing run.
  it.each([
    ["FORGEHAND_GITHUB_LOGIN set", "env"],
    ["the bot login discovered from the forge", "discover"],
  ] as const)(
    "runs the develop stage with the real Claude CLI and opens a PR (%s)",
    { timeout: 180_000 },
    async (_, botLogin) => {
      world = await startE2eWorld({
        botLogin,
        // 20k input tokens per turn at the CLI's prices for its default model (claude-opus-5-5, $4 / M input): two
        // turns ≈ $0.16, visible in the status comment.
        script: writeFileScript("hello.txt", "hello from the scripted model\n", {
          usage: { input_tokens: 20_000, output_tokens: 5 },
        }),
        redisUrl: testRedisUrl(),
        prefix: uniquePrefix("e2e1"),
      });
      const w = world;
      const issue = w.openIssue("Add a greeting file", "Please add hello.txt");
      await w.addLabel(issue, "agent:develop");

      const branch = `forgehand/${issue}-add-a-greeting-file`;
      await waitFor(`branch ${branch} on the origin`, () => w.origin.branches().includes(branch), {
        timeoutMs: Number(process.env.E2E_WAIT_MS ?? 120_000),
      });
      expect(w.origin.show(branch, "hello.txt")).toBe("hello from the scripted model");

      const pulls = w.emulator.state.repos.get("acme/widgets")!.pulls;
      await waitFor("a PR", () => pulls.length > 0);
      expect(pulls[0]).toMatchObject({ head: branch, base: "main", state: "open" });

      const final = await waitFor(
        "the status comment to say succeeded",
        () => w.statusComments(issue).find((body) => /succeeded/.test(body)),
        { timeoutMs: 60_000 },
      );
      if (process.env.E2E_SHOW) console.log(final);
      const text = plainText(final);
      expect(text).toMatch(/\bdevelop\b/);
      expect(text).toMatch(/· 1 tool turn · \$\d+\.\d\d\b/);
      expect(text).toMatch(/ · \$0\.16\b/);
      expect(final).toContain(`/acme/widgets/pull/${pulls[0]!.number}`);
      expect(w.labels(issue)).not.toContain("agent:develop");
      const [run] = await w.runs();
      // Claude ran inside the sandbox (the default), reaching the model server only through the egress proxy.
      expect(run).toMatchObject({ state: "succeeded", stage: "develop", sandboxed: true });
      expect(final).not.toContain("unsandboxed");
      expect(run?.stoppedBy).toBeUndefined();
      if (botLogin === "discover") expect(w.forgehand.log()).toContain("bot login github=forgehand-bot (discovered)");
      // The bot's own `issues.unlabeled` came back and was recognised as its own, not turned into a stop.
      await waitFor("the unlabeled echo to be answered", () =>
        w.forgehand.log().includes("label removed by forgehand itself"),
      );
      // The model was driven through the real CLI: one Write turn, one final answer, aimed at the worktree.
      const main = w.model.mainRequests();
      expect(main.length).toBeGreaterThanOrEqual(2);
      expect(w.survivors()).toEqual([]);
    },
  );
});
