import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import { loopToolsScript } from "../support/model-server";
import { plainText } from "./harness/plain-text";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Scenario 3 (issue 7): /stop while Claude loops on tool calls. An outsider's /stop only gets a reply;
// a write collaborator's /stop kills every process, the run ends `stopped`, and the comment names who stopped it.
let world: E2eWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

const claudeProcesses = (w: E2eWorld) => w.survivors().filter((p) => p.cmdline.includes("claude"));

describe("e2e: /stop", () => {
  it("ignores an unauthorised /stop and honours an authorised one with a verified kill", {
    timeout: 180_000,
  }, async () => {
    world = await startE2eWorld({
      script: loopToolsScript(),
      stages: [{ name: "develop", label: "agent:develop", limits: { timeout: "3m", stall: "60s" } }],
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2e3"),
    });
    const w = world;
    const issue = w.openIssue("Loop forever");
    await w.addLabel(issue, "agent:develop");
    await waitFor("Claude to loop on tool calls", () => w.model.mainRequests().length >= 3, { timeoutMs: 90_000 });
    expect(claudeProcesses(w).length).toBeGreaterThan(0);

    await w.comment(issue, "/stop", "mallory");
    await waitFor("a reply to mallory", () =>
      w
        .comments(issue)
        .some((c) => c.author === "forgehand-bot" && /mallory/.test(c.body) && !c.body.includes("forgehand:run=")),
    );
    // Still looping: the outsider's /stop changed nothing.
    const before = w.model.mainRequests().length;
    await waitFor("more tool turns after mallory's /stop", () => w.model.mainRequests().length > before + 2);
    expect(w.statusComments(issue)[0]).not.toMatch(/stopped/);

    // A collaborator with write permission (not the owner), as the issue intends: the emulator sends
    // author_association COLLABORATOR for her, so forgehand asks the permission API and gets `write`.
    await w.comment(issue, "/stop", "alice");
    const final = await waitFor("the status comment to say stopped", () =>
      w.statusComments(issue).find((body) => /\bstopped\b/i.test(plainText(body))),
    );
    expect(plainText(final)).toMatch(/stopped by @?alice\b/i);
    expect(claudeProcesses(w)).toEqual([]);
    expect(w.survivors()).toEqual([]);
    // No more model traffic once the kill is verified.
    const after = w.model.mainRequests().length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(w.model.mainRequests().length).toBe(after);
    expect(w.labels(issue)).not.toContain("forgehand:failed");
  });
});
