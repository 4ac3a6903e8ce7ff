import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentEvent, supervise } from "@forgehand/supervisor";
import { afterEach, describe, expect, it } from "vitest";
import { waitingText } from "../../apps/runner/src/waiting-text";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import {
  type OpenAiServer,
  type Reply,
  type ReplyScript,
  sequenceReplies,
  startOpenAiServer,
} from "../support/openai-server";
import { CODEX_BIN, codexArgv } from "../support/openai-server/run-codex";
import type { E2eStage } from "./harness/e2e-config";
import { plainText } from "./harness/plain-text";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Issue 15: the same stages with `agent: codex` — the real codex-cli 0.171.0, sandboxed (the default), against the
// scripted Responses API. The Anthropic model server of the world is unused (it answers nothing here).
let world: E2eWorld | undefined;
let openai: OpenAiServer | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) {
    console.error(world.diagnose());
    console.error(JSON.stringify(openai?.requests.map((r) => r.path)));
  }
  await world?.close();
  await openai?.close();
  world = undefined;
  openai = undefined;
});

const USAGE = { input_tokens: 100_000, cached_tokens: 0, output_tokens: 0 };
const PATCH = "*** Begin Patch\n*** Add File: hello.txt\n+hello from codex\n*** End Patch";

/** Routes by the MODE- marker of the stage prompt, as byPromptScript does for Claude. */
function byMode(modes: Record<string, ReplyScript>): ReplyScript {
  return (req, ctx) => {
    const text = JSON.stringify(req.input);
    for (const [mode, script] of Object.entries(modes)) if (text.includes(mode)) return script(req, ctx);
    return { text: "no mode" };
  };
}

const modes: Record<string, ReplyScript> = {
  // apply_patch writes hello.txt, then a final message: one tool turn, 2 requests × 100k input tokens = $0.20.
  "MODE-WRITE": (_req, ctx): Reply =>
    ctx.toolOutputs === 0
      ? { customCall: { name: "apply_patch", input: PATCH }, usage: USAGE }
      : { text: "done", usage: USAGE },
  "MODE-LOOP": () => ({ call: { name: "exec_command", arguments: { cmd: "echo looping" } } }),
  "MODE-SILENT": () => ({ silentForMs: 120_000 }),
  // First run: wrong.txt (the gate fails). The /retry run resumes the thread: the old call is in its input,
  // followed by the new prompt, and now hello.txt is written.
  "MODE-RESUME": (req, ctx): Reply => {
    const last = req.input.at(-1)?.type;
    const resumed = ctx.toolOutputs >= 1 && last === "message";
    if (ctx.toolOutputs === 0)
      return { customCall: { name: "apply_patch", input: PATCH.replace("hello.txt", "wrong.txt") } };
    if (resumed && ctx.toolOutputs === 1) return { customCall: { name: "apply_patch", input: PATCH } };
    return { text: "done" };
  },
  // A tool call per request whose ~390 KB output codex sends back to the model: the scripted API reports no usage
  // until a final answer that never comes, so only the live estimate can cross the budget.
  "MODE-SPEND": () => ({ call: { name: "exec_command", arguments: { cmd: "seq 100000 165000" } } }),
  "MODE-SLEEP": () => ({ call: { name: "exec_command", arguments: { cmd: "sleep 300", yield_time_ms: 300_000 } } }),
};

const stage = (name: string, extra: Partial<E2eStage> = {}): E2eStage => ({
  name,
  label: `agent:${name}`,
  prompt: `inline:MODE-${name.toUpperCase()} issue #{{issue.number}}`,
  limits: { timeout: "2m", stall: "60s" },
  ...extra,
});

async function codexWorld(stages: E2eStage[], prefix: string): Promise<E2eWorld> {
  openai = await startOpenAiServer({ script: byMode(modes) });
  return startE2eWorld({
    script: () => ({ text: "unused" }),
    stages,
    config: {
      agent: "codex",
      agents: {
        codex: {
          command: [CODEX_BIN, ...codexArgv(openai.url)],
          parser: "codex-json",
          env: {},
          resumeArgs: ["resume", "{sessionId}", "-"],
          sandbox: { enabled: true },
        },
      },
      prices: { "gpt-5.5": { input: 1, output: 10 } },
      runner: { concurrency: 4 },
    },
    redisUrl: testRedisUrl(),
    prefix: uniquePrefix(prefix),
  });
}

describe("e2e: codex", () => {
  it("label → codex writes a file with apply_patch → commit, PR, status comment with turns and cost", {
    timeout: 180_000,
  }, async () => {
    world = await codexWorld([stage("write", { gate: ["test", "-f", "hello.txt"], openPullRequest: true })], "cx1");
    const w = world;
    const issue = w.openIssue("Add a greeting file");
    await w.addLabel(issue, "agent:write");
    const branch = `forgehand/${issue}-add-a-greeting-file`;
    await waitFor(`branch ${branch}`, () => w.origin.branches().includes(branch), { timeoutMs: 120_000 });
    expect(w.origin.show(branch, "hello.txt")).toBe("hello from codex");
    const pulls = w.emulator.state.repos.get("acme/widgets")!.pulls;
    await waitFor("a PR", () => pulls.length > 0);
    const final = await waitFor("succeeded", () => w.statusComments(issue).find((b) => /succeeded/.test(b)), {
      timeoutMs: 60_000,
    });
    const text = plainText(final);
    // The headline: `✅ develop succeeded for @… in 9s · 1 tool turn · $0.20`.
    expect(text).toMatch(/· 1 tool turn · \$0\.20\b/);
    // One action per tool call (codex reports each item started and completed), the path relative to the worktree.
    expect(text.match(/apply.patch add hello\.txt/g)).toHaveLength(1);
    const [run] = await w.runs();
    expect(run).toMatchObject({ state: "succeeded", sandboxed: true });
    expect(run?.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(openai!.responseRequests().length).toBe(2);
    expect(w.survivors()).toEqual([]);
  });
});

describe("e2e: codex limits, /stop and /retry", () => {
  it("ends runs as turn_limit, stalled and stopped with no survivors, and /retry resumes the codex thread", {
    timeout: 300_000,
  }, async () => {
    world = await codexWorld(
      [
        stage("loop", { limits: { timeout: "2m", stall: "60s", maxTurns: 3 } }),
        stage("silent", { limits: { timeout: "2m", stall: "5s" } }),
        stage("sleep"),
        stage("resume", { gate: ["test", "-f", "hello.txt"] }),
      ],
      "cx2",
    );
    const w = world;
    const issues: Record<string, number> = {};
    for (const name of ["loop", "silent", "sleep", "resume"]) {
      issues[name] = w.openIssue(`Codex ${name}`);
      await w.addLabel(issues[name]!, `agent:${name}`);
    }
    const runOf = async (name: string) => (await w.runs()).find((r) => r.stage === name);
    // /stop once codex runs `sleep 300` through its own shell tool.
    await waitFor("codex to run sleep 300", () => w.survivors().some((p) => /sleep 300/.test(p.cmdline)), {
      timeoutMs: 120_000,
    });
    await w.comment(issues.sleep!, "/stop", "alice");

    const loop = await waitFor(
      "loop to end",
      async () => ((await runOf("loop"))?.state === "turn_limit" ? runOf("loop") : undefined),
      {
        timeoutMs: 120_000,
      },
    );
    // The 4th tool call is the one that crosses maxTurns 3 (as for Claude: "tool turn 4 exceeds maxTurns 3").
    expect(loop?.turns).toBe(4);
    await waitFor("silent to stall", async () => (await runOf("silent"))?.state === "stalled", { timeoutMs: 120_000 });
    await waitFor("sleep to be stopped", async () => (await runOf("sleep"))?.state === "stopped", {
      timeoutMs: 60_000,
    });
    await waitFor("loop's comment to say turn limit", () =>
      /turn.limit/i.test(plainText(w.statusComments(issues.loop!)[0] ?? "")),
    );

    const failed = await waitFor(
      "resume's first run to fail its gate",
      async () => {
        const r = await runOf("resume");
        return r?.state === "failed" ? r : undefined;
      },
      { timeoutMs: 120_000 },
    );
    expect(failed.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor("the failed label", () => w.labels(issues.resume!).includes("forgehand:failed"));
    const before = openai!.responseRequests().length;
    await w.comment(issues.resume!, "/retry", "acme");
    const succeeded = await waitFor(
      "the retried run to succeed",
      async () => (await w.runs()).find((r) => r.stage === "resume" && r.state === "succeeded"),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    // The same thread: codex reports the resumed thread id, and its first request carries the first run's patch.
    expect(succeeded.sessionId).toBe(failed.sessionId);
    const resumed = openai!.responseRequests()[before]!;
    expect(JSON.stringify(resumed.body)).toContain("wrong.txt");
    expect(w.origin.show(`forgehand/${issues.resume}-codex-resume`, "hello.txt")).toBe("hello from codex");
    await waitFor("no survivors", () => w.survivors().length === 0, { timeoutMs: 10_000 });
  });
});

describe("e2e: codex maxBudgetUsd mid-run", () => {
  it("stops a codex run on the live cost estimate while it keeps calling tools", { timeout: 180_000 }, async () => {
    world = await codexWorld([stage("spend", { limits: { timeout: "2m", stall: "60s", maxBudgetUsd: 0.2 } })], "cx3");
    const w = world;
    const issue = w.openIssue("Codex spend");
    await w.addLabel(issue, "agent:spend");
    const run = await waitFor(
      "spend to end",
      async () => (await w.runs()).find((r) => r.stage === "spend" && r.state !== "queued" && r.state !== "running"),
      { timeoutMs: 150_000 },
    );
    expect(run.state).toBe("budget_limit");
    // Each call adds ~390 KB ≈ 97k tokens at $1 per million to the next request: a few calls, not a runaway.
    expect(run.costUsd).toBeGreaterThan(0.2);
    expect(run.turns).toBeLessThan(8);
    expect(openai!.responseRequests().length).toBeLessThan(9);
    await waitFor("the comment to say budget limit", () =>
      /budget.limit/i.test(plainText(w.statusComments(issue)[0] ?? "")),
    );
    await waitFor("no survivors", () => w.survivors().length === 0, { timeoutMs: 10_000 });
  });
});

describe("e2e: codex retries a 429 with Retry-After", () => {
  it("reports codex's own retry as an api_retry the status comment shows while it waits, then succeeds", {
    timeout: 120_000,
  }, async () => {
    openai = await startOpenAiServer({
      script: sequenceReplies([
        { status: 429, retryAfter: 3, message: "Rate limit reached" },
        { text: "ok after retry" },
      ]),
    });
    const home = mkdtempSync(join(tmpdir(), "fh-codex-home-"));
    // The e2e argv turns codex's own retries off (so failures end fast); here they are on, as in production.
    const argv = codexArgv(openai.url).map((a) => a.replace(/_max_retries=0$/, "_max_retries=3"));
    const seen: { event: AgentEvent; at: number }[] = [];
    const outcome = await supervise({
      command: [CODEX_BIN, ...argv],
      cwd: mkdtempSync(join(tmpdir(), "fh-codex-cwd-")),
      env: { HOME: home, CODEX_HOME: home },
      prompt: { via: "stdin", text: "say ok" },
      parser: "codex-json",
      limits: { stallMs: 60_000 },
      killGraceMs: 1000,
      runId: "codex-retry-1",
      prices: { "gpt-5.5": { input: 1, output: 10 } },
      onEvent: (event) => seen.push({ event, at: Date.now() }),
    });
    expect(outcome.reason, JSON.stringify(outcome)).toBe("succeeded");
    const retryAt = seen.findIndex((s) => s.event.type === "api_retry");
    const retry = seen[retryAt];
    expect(retry?.event).toMatchObject({ type: "api_retry", attempt: 1, maxRetries: 3, status: 429 });
    expect(waitingText(retry!.event, Date.now())).toBe("API retry 1/3 after HTTP 429");
    // The retry is announced when the wait starts: the next event comes after the server's Retry-After.
    const next = seen[retryAt + 1];
    expect(next?.event.type).toBe("assistant");
    expect(next!.at - retry!.at).toBeGreaterThanOrEqual(2500);
    expect(waitingText(next!.event, Date.now())).toBe("");
    expect(outcome.resultText).toBe("ok after retry");
  });
});
