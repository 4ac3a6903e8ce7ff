import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { geminiWriteFileScript } from "../support/gemini-server";
import { plainText } from "./harness/plain-text";
import { waitFor } from "./harness/start-e2e-world";
import { type GeminiWorld, startGeminiWorld } from "./harness/start-gemini-world";

// Issue 15, scenario 1 with the real Gemini CLI: agent:develop → gemini writes hello.txt with its own write_file
// tool (inside the default sandbox) → gate → commit → PR → status comment with turns, action and cost from tokens.
let world: GeminiWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

describe("e2e (gemini): label → agent → commit, PR, status comment", () => {
  it("runs the develop stage with the real Gemini CLI and opens a PR", { timeout: 180_000 }, async () => {
    world = await startGeminiWorld({
      // 40k prompt tokens per call at gemini-2.5-pro prices: two calls ≈ $0.10, priced from the result's tokens.
      gemini: geminiWriteFileScript("hello.txt", "hello from gemini\n", {
        usage: { promptTokenCount: 40_000, candidatesTokenCount: 5 },
      }),
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2eg1"),
    });
    const w = world;
    const issue = w.openIssue("Add a greeting file", "Please add hello.txt");
    await w.addLabel(issue, "agent:develop");

    const branch = `forgehand/${issue}-add-a-greeting-file`;
    await waitFor(`branch ${branch} on the origin`, () => w.origin.branches().includes(branch), {
      timeoutMs: Number(process.env.E2E_WAIT_MS ?? 120_000),
    });
    expect(w.origin.show(branch, "hello.txt")).toBe("hello from gemini");
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
    expect(text).toMatch(/· 1 tool turn · \$\d+\.\d\d\b/);
    expect(text).toMatch(/ · \$0\.10\b/);
    expect(final).toContain(`/acme/widgets/pull/${pulls[0]!.number}`);
    const [run] = await w.runs();
    expect(run).toMatchObject({ state: "succeeded", stage: "develop", sandboxed: true, turns: 1 });
    expect(run?.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    // The real CLI spoke the Gemini API to the scripted server only: two streamed generate calls, the second
    // carrying the write_file result, both naming the worktree as the workspace.
    const generate = w.gemini.generateRequests();
    expect(generate.map((r) => [r.path, r.query])).toEqual([
      ["/v1beta/models/gemini-2.5-pro:streamGenerateContent", "alt=sse"],
      ["/v1beta/models/gemini-2.5-pro:streamGenerateContent", "alt=sse"],
    ]);
    expect(w.gemini.requests.filter((r) => r.kind === "unknown")).toEqual([]);
    expect(JSON.stringify(generate[1]!.body)).toContain("functionResponse");
    expect(w.model.requests).toEqual([]);
    expect(w.survivors()).toEqual([]);
  });
});
