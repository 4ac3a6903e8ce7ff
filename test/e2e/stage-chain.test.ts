import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { byPromptScript, writeFileScript } from "../support/model-server";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Scenario 2 (issue 7): a two-stage chain (analyse → develop) driven only by labels: the bot's own label
// change comes back from the forge as a signed issues.labeled delivery and starts the next stage.
let world: E2eWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

describe("e2e: stage chain by labels", () => {
  it("runs analyse, then develop through the forge's own labeled delivery", { timeout: 180_000 }, async () => {
    world = await startE2eWorld({
      script: byPromptScript({
        "MODE-ANALYSE": () => ({ text: "Plan: add hello.txt with a greeting." }),
        "MODE-DEVELOP": writeFileScript("hello.txt", "hello\n"),
      }),
      stages: [
        { name: "analyse", label: "agent:analyse", prompt: "inline:MODE-ANALYSE {{issue.title}}", next: "develop" },
        {
          name: "develop",
          label: "agent:develop",
          prompt: "inline:MODE-DEVELOP {{issue.title}}",
          gate: ["test", "-f", "hello.txt"],
          openPullRequest: true,
        },
      ],
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2e2"),
    });
    const w = world;
    const issue = w.openIssue("Greet people");
    await w.addLabel(issue, "agent:analyse");

    const runs = await waitFor(
      "analyse and develop to succeed",
      async () => {
        const all = await w.runs();
        return all.filter((r) => r.state === "succeeded").length >= 2 ? all : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    expect(runs.map((r) => `${r.stage}:${r.state}`).sort()).toEqual(["analyse:succeeded", "develop:succeeded"]);
    // The develop stage was started by the delivery for the label the bot added, not by the test.
    const botLabeled = w.emulator.deliveries.filter((d) => {
      const p = d.payload as { action?: string; label?: { name?: string }; sender?: { login?: string } };
      return d.event === "issues" && p.action === "labeled" && p.label?.name === "agent:develop";
    });
    expect(botLabeled).toHaveLength(1);
    expect((botLabeled[0]!.payload as { sender: { login: string } }).sender.login).toBe("forgehand-bot");
    expect(botLabeled[0]!.status).toBe(202);
    expect(w.origin.show(`forgehand/${issue}-greet-people`, "hello.txt")).toBe("hello");
    expect(w.emulator.state.repos.get("acme/widgets")!.pulls).toHaveLength(1);
    await waitFor("both stage labels removed", () => {
      const labels = w.labels(issue);
      return !labels.includes("agent:analyse") && !labels.includes("agent:develop");
    });
    expect(w.statusComments(issue)).toHaveLength(2);
    expect(w.survivors()).toEqual([]);
  });
});
