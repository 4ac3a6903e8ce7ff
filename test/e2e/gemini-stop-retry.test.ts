import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { type GeminiScript, geminiLoopToolsScript, geminiWriteFileScript } from "../support/gemini-server";
import { DEVELOP_STAGE } from "./harness/e2e-config";
import { plainText } from "./harness/plain-text";
import { waitFor } from "./harness/start-e2e-world";
import { type GeminiWorld, startGeminiWorld } from "./harness/start-gemini-world";

// Issue 15 with the real Gemini CLI: /stop kills every process of the run (verified), and /retry after a failed
// gate resumes the same Gemini session (`--resume=<session_id>` from the agent's resumeArgs).
let world: GeminiWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

const geminiProcesses = (w: GeminiWorld) => w.survivors().filter((p) => p.cmdline.includes("gemini"));

describe("e2e (gemini): /stop and /retry", () => {
  it("/stop kills the looping Gemini CLI and all its children", { timeout: 180_000 }, async () => {
    world = await startGeminiWorld({
      gemini: geminiLoopToolsScript(),
      stages: [{ name: "develop", label: "agent:develop", limits: { timeout: "3m", stall: "60s" } }],
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2eg3"),
    });
    const w = world;
    const issue = w.openIssue("Loop forever");
    await w.addLabel(issue, "agent:develop");
    await waitFor("gemini to loop on tool calls", () => w.gemini.generateRequests().length >= 3, {
      timeoutMs: 90_000,
    });
    // The CLI relaunches itself as a child node process: both must go.
    expect(geminiProcesses(w).length).toBeGreaterThan(0);
    await w.comment(issue, "/stop", "alice");
    const final = await waitFor("the status comment to say stopped", () =>
      w.statusComments(issue).find((body) => /\bstopped\b/i.test(plainText(body))),
    );
    expect(plainText(final)).toMatch(/stopped by @?alice\b/i);
    expect(geminiProcesses(w)).toEqual([]);
    expect(w.survivors()).toEqual([]);
    const after = w.gemini.generateRequests().length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(w.gemini.generateRequests().length).toBe(after);
  });

  it("/retry resumes the Gemini session after a failed gate and succeeds", { timeout: 200_000 }, async () => {
    const wrong = geminiWriteFileScript("wrong.txt", "oops\n");
    const right = geminiWriteFileScript("hello.txt", "hello\n");
    // Session 1: write wrong.txt, then finish. Resumed, the conversation carries session 1's function
    // responses (the CLI restores them more than once), so the resumed turn looks only at the last message.
    const script: GeminiScript = (req, ctx) => {
      if (ctx.index < 2) return wrong(req, ctx);
      const answered = req.contents.at(-1)?.parts?.some((part) => part.functionResponse !== undefined);
      return right(req, { ...ctx, functionResponses: answered ? 1 : 0 });
    };
    world = await startGeminiWorld({
      gemini: script,
      stages: [DEVELOP_STAGE],
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2eg7"),
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
    // Same session: the init line of the resumed run names the first run's id (a fresh run gets a new uuid).
    expect(succeeded.sessionId).toBe(failed.sessionId);
    const resumed = w.gemini.generateRequests()[2]!;
    // The resumed request carries the first run's conversation: its write_file of wrong.txt.
    expect(JSON.stringify(resumed.body)).toContain("wrong.txt");
    expect(w.origin.show(`forgehand/${issue}-retry-me`, "hello.txt")).toBe("hello");
    expect(w.survivors()).toEqual([]);
  });
});
