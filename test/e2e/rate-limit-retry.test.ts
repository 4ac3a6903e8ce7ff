import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { type Script, writeFileScript } from "../support/model-server";
import { DEVELOP_STAGE } from "./harness/e2e-config";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Scenario 6 (issue 7): the model answers 429 with Retry-After until Claude gives up (its own retries capped
// by CLAUDE_CODE_MAX_RETRIES=1), then succeeds → forgehand classifies the failure as transient, retries the
// run after its backoff, and the second attempt succeeds.
let world: E2eWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

describe("e2e: API rate limit", () => {
  it("retries the run after a 429 the agent gave up on, then succeeds", { timeout: 180_000 }, async () => {
    const write = writeFileScript("hello.txt", "hello\n");
    const script: Script = (req, ctx) => (ctx.index < 2 ? { status: 429, retryAfter: 1 } : write(req, ctx));
    world = await startE2eWorld({
      script,
      stages: [DEVELOP_STAGE],
      config: { agentEnv: { CLAUDE_CODE_MAX_RETRIES: "1" }, runner: { retryBackoff: "2s", transientRetries: 2 } },
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2e6"),
    });
    const w = world;
    const issue = w.openIssue("Rate limited");
    await w.addLabel(issue, "agent:develop");

    const run = await waitFor(
      "the run to succeed",
      async () => (await w.runs()).find((r) => r.state === "succeeded" || r.state === "failed"),
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    expect(run.state, JSON.stringify(run)).toBe("succeeded");
    expect(run.attempts).toBeGreaterThanOrEqual(2);
    const main = w.model.mainRequests();
    // Claude's own retry honoured Retry-After (1 s); forgehand's retry waited its backoff after Claude gave up.
    expect(main[1]!.at - main[0]!.at).toBeGreaterThanOrEqual(950);
    expect(main[2]!.at - main[1]!.at).toBeGreaterThanOrEqual(1_900);
    expect(main[2]!.headers["x-claude-code-session-id"]).not.toBe(main[0]!.headers["x-claude-code-session-id"]);
    expect(w.origin.show(`forgehand/${issue}-rate-limited`, "hello.txt")).toBe("hello");
    expect(w.labels(issue)).not.toContain("forgehand:failed");
    expect(w.survivors()).toEqual([]);
  });
});
