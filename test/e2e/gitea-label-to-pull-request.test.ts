import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { writeFileScript } from "../support/model-server";
import { plainText } from "./harness/plain-text";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Scenario 1 on Gitea: the same loop through /webhooks/gitea, Gitea's signed deliveries and its API.
let world: E2eWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

describe("e2e on Gitea: label → agent → commit, PR, status comment", () => {
  it("runs the develop stage with the real Claude CLI and opens a Gitea PR", { timeout: 180_000 }, async () => {
    world = await startE2eWorld({
      forge: "gitea",
      script: writeFileScript("hello.txt", "hello from gitea\n"),
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2eg"),
    });
    const w = world;
    const issue = w.openIssue("Add a greeting file");
    await w.addLabel(issue, "agent:develop");

    const branch = `forgehand/${issue}-add-a-greeting-file`;
    await waitFor(`branch ${branch} on the origin`, () => w.origin.branches().includes(branch), { timeoutMs: 120_000 });
    expect(w.origin.show(branch, "hello.txt")).toBe("hello from gitea");
    const pulls = w.emulator.state.repos.get("acme/widgets")!.pulls;
    await waitFor("a PR", () => pulls.length > 0);
    expect(pulls[0]).toMatchObject({ head: branch, base: "main", state: "open" });
    const final = await waitFor("the status comment to say succeeded", () =>
      w.statusComments(issue).find((body) => /succeeded/.test(body)),
    );
    expect(plainText(final)).toMatch(/· 1 tool turn · \$\d+\.\d\d\b/);
    await waitFor("the stage label removed", () => !w.labels(issue).includes("agent:develop"));
    expect(w.survivors()).toEqual([]);
  });
});
