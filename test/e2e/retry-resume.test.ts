import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { type Script, writeFileScript } from "../support/model-server";
import { DEVELOP_STAGE } from "./harness/e2e-config";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Scenario 7 (issue 7): the first run writes the wrong file, so the gate fails; `/retry` runs the stage again
// and resumes the same Claude session (`--resume <session_id>`), which sees its earlier turns and fixes it.
let world: E2eWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

describe("e2e: /retry", () => {
  it("resumes the Claude session after a failed gate and succeeds", { timeout: 180_000 }, async () => {
    const wrong = writeFileScript("wrong.txt", "oops\n");
    const right = writeFileScript("hello.txt", "hello\n");
    // Session 1: Write wrong.txt, then finish. After /retry the resumed conversation already holds 1 tool
    // result: write hello.txt (2nd tool result), then finish.
    const script: Script = (req, ctx) =>
      ctx.index < 2 ? wrong(req, ctx) : right(req, { ...ctx, toolResults: ctx.toolResults - 1 });
    world = await startE2eWorld({
      script,
      stages: [DEVELOP_STAGE],
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2e7"),
    });
    const w = world;
    const issue = w.openIssue("Retry me");
    await w.addLabel(issue, "agent:develop");
    const failed = await waitFor("the first run to fail its gate", async () =>
      (await w.runs()).find((r) => r.state === "failed"),
    );
    expect(failed.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor("the failed label", () => w.labels(issue).includes("forgehand:failed"));

    await w.comment(issue, "/retry", "acme");
    const succeeded = await waitFor(
      "the retried run to succeed",
      async () => (await w.runs()).find((r) => r.state === "succeeded"),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(succeeded.sessionId).toBe(failed.sessionId);
    const resumed = w.model.mainRequests()[2]!;
    expect(resumed.headers["x-claude-code-session-id"]).toBe(failed.sessionId);
    // The resumed request carries the first run's conversation: its Write of wrong.txt.
    expect(JSON.stringify(resumed.body)).toContain("wrong.txt");
    expect(w.origin.show(`forgehand/${issue}-retry-me`, "hello.txt")).toBe("hello");
    expect(w.survivors()).toEqual([]);
  });
});
