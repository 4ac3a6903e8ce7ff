import { createRedactor, type RunRecord, type RunState } from "@forgehand/core";
import { describe, expect, it } from "vitest";
import { formatElapsed, MAX_COMMENT_CHARS, renderStatusComment } from "./render-status-comment";
import { statusMarker } from "./status-marker";

const base: RunRecord = {
  id: "r0a1b2c3d4e5",
  forge: "github",
  repo: "acme/app",
  issue: 12,
  isPr: false,
  stage: "develop",
  state: "running",
  createdAt: 1_000_000,
  startedAt: 1_000_000,
  turns: 12,
  maxTurns: 40,
  costUsd: 0.4213,
  budgetUsd: 2,
  attempts: 1,
  trigger: "label by alice",
  lastActions: ["Read src/index.ts", "Bash: npm test", "Edit src/server.ts"],
};
const now = 1_000_000 + 192_000;

describe("renderStatusComment", () => {
  it("says ⚠ unsandboxed on every comment of a run whose agent has the sandbox off, never otherwise", () => {
    for (const state of ["running", "succeeded", "failed"] as RunState[]) {
      expect(renderStatusComment({ ...base, state, sandboxed: false }, { now })).toContain("⚠ unsandboxed");
      expect(renderStatusComment({ ...base, state, sandboxed: true }, { now })).not.toContain("unsandboxed");
      expect(renderStatusComment({ ...base, state }, { now })).not.toContain("unsandboxed");
    }
  });

  it("says what a live agent waits for (its own API retry), never on an ended run or once it is active again", () => {
    const waiting = "API retry 2/10 after HTTP 529, next try in 39 s";
    expect(renderStatusComment({ ...base, waiting }, { now })).toContain(
      "⏳ waiting: API retry 2/10 after HTTP 529, next try in 39 s",
    );
    expect(renderStatusComment({ ...base, waiting: "" }, { now })).not.toContain("waiting:");
    expect(renderStatusComment({ ...base, state: "failed", waiting }, { now })).not.toContain("waiting:");
    // Agent-written text: no markup, no live mention.
    expect(renderStatusComment({ ...base, waiting: "x | <img src=y> @admin" }, { now })).toContain(
      "⏳ waiting: x | &lt;img src=y&gt; @\u200badmin",
    );
  });

  it("marks a cost that is still a live estimate (codex, gemini) as one, and a reported one not", () => {
    expect(renderStatusComment({ ...base, costEstimated: true }, { now })).toContain(
      "· 12 tool turns · ~$0.42 (estimate)",
    );
    expect(renderStatusComment({ ...base, costEstimated: false }, { now })).toContain("· 12 tool turns · $0.42\n");
  });

  it("renders a running run in full", () => {
    expect(renderStatusComment(base, { now, publicUrl: "https://bot.example/" })).toMatchInlineSnapshot(`
      "<!-- forgehand:run=r0a1b2c3d4e5 -->
      ### 🔄 \`develop\` running for @alice · 3m 12s · 12 tool turns · $0.42

      <sub>Limits: 40 tool turns · $2.00</sub>

      **Last actions**

      - [x] Read src/index.ts
      - [x] Bash: npm test
      - [ ] Edit src/server.ts

      📜 [Run log](https://bot.example/api/runs/r0a1b2c3d4e5/log)

      To stop this run, comment \`/stop\` on this issue.

      <sub>forgehand run \`r0a1b2c3d4e5\` · label by alice</sub>"
    `);
  });

  const cases: [RunState, Partial<RunRecord>, string[]][] = [
    [
      "queued",
      { startedAt: undefined, attempts: 0 },
      ["### ⏳ `develop` queued for @alice · waiting to start", "`/stop`"],
    ],
    [
      "queued",
      { reason: "transient failure (rate limited (429)); retry 1/3 in 10s", turns: 4, costUsd: 0.62 },
      [
        "waiting to retry",
        "**Waiting:** transient failure (rate limited (429)); retry 1/3 in 10s",
        "· 4 tool turns · $0.62",
      ],
    ],
    [
      "succeeded",
      { prUrl: "https://github.com/acme/app/pull/13", endedAt: now },
      [
        "### ✅ `develop` succeeded for @alice in 3m 12s · 12 tool turns · $0.42 — [PR #13](https://github.com/acme/app/pull/13)",
        "**Next:** stage `review`",
        "`/retry`",
      ],
    ],
    [
      "failed",
      { reason: "gate `npm test` exited 1", endedAt: now },
      ["❌ `develop` failed for @alice in 3m 12s", "**Result:** failed: gate `npm test` exited 1"],
    ],
    [
      "stopped",
      { stoppedBy: "alice", reason: "/stop comment", endedAt: now },
      ["🛑 `develop` stopped", "stopped by @alice: /stop comment"],
    ],
    ["timed_out", { reason: "30m limit", endedAt: now }, ["⏱️ `develop` timed out", "wall-clock timeout: 30m limit"]],
    ["stalled", { endedAt: now }, ["💤 `develop` stalled", "stall limit"]],
    [
      "turn_limit",
      { turns: 40, endedAt: now },
      [
        "🔁 `develop` turn limit reached",
        "used all 40 tool turns",
        "· 40 tool turns ·",
        "Limits: 40 tool turns · $2.00",
      ],
    ],
    [
      "budget_limit",
      { costUsd: 2.03, endedAt: now },
      ["💸 `develop` budget limit reached", "reached the $2.00 budget", "· $2.03", "Limits: 40 tool turns · $2.00"],
    ],
  ];
  for (const [state, extra, expected] of cases) {
    it(`renders ${state} with its icon, words and result`, () => {
      const body = renderStatusComment(
        { ...base, state, ...extra },
        { now, stages: [{ name: "develop", next: "review" }, { name: "review" }] },
      );
      expect(body.startsWith(statusMarker(base.id))).toBe(true);
      for (const e of expected) expect(body).toContain(e);
      const live = state === "queued" || state === "running";
      expect(body.includes("To stop this run")).toBe(live);
      expect(body.includes("- [ ]")).toBe(false);
    });
  }

  it("redacts secrets from reasons, actions and the gate tail, and neutralises markup", () => {
    const token = `ghp_${"a".repeat(36)}`;
    const body = renderStatusComment(
      {
        ...base,
        state: "failed",
        endedAt: now,
        reason: `push failed: https://x-access-token:${token}@github.com/acme/app.git`,
        lastActions: [
          "ran with ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnop",
          "<!-- forgehand:run=evil --> ping @everyone",
        ],
      },
      { now, gateTail: "```\nfake close\nsecret: hunter2hunter2\n", secrets: ["hunter2hunter2"] },
    );
    expect(body).not.toContain(token);
    expect(body).not.toContain("sk-ant-api03");
    expect(body).not.toContain("hunter2hunter2");
    expect(body).toContain("[REDACTED]");
    expect(body).not.toContain("forgehand:run=evil -->");
    expect(body).toContain("&lt;!-- forgehand:run=evil --&gt;");
    expect(body).not.toMatch(/@everyone/);
    // The gate tail's own ``` cannot close the fence early.
    expect(body).toContain("````text\n```\nfake close");
  });

  it("applies the `redact` option to every agent- or forge-derived text, before cutting it", () => {
    // A value no pattern knows (the Gitea token is 40 hex, like a SHA): only the literal catches it.
    const secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
    const { redact } = createRedactor([secret]);
    const body = renderStatusComment(
      {
        ...base,
        state: "failed",
        endedAt: now,
        reason: `agent said ${secret}`,
        // The secret straddles the 200-character cut of an action line: no prefix of it may show.
        lastActions: [`Bash ${"x".repeat(185)} ${secret}`, `Read ${secret}`],
        trigger: `label by ${secret}`,
      },
      { now, gateTail: `tests failed\n${secret}\n`, redact },
    );
    expect(body).not.toContain(secret.slice(0, 10));
    expect(body.match(/\[REDACTED\]/g)?.length).toBeGreaterThanOrEqual(4);
    const plain = renderStatusComment({ ...base, reason: secret, state: "failed", endedAt: now }, { now });
    expect(plain).toContain(secret); // without `redact` only the patterns apply: the option is what hides it
  });

  it("keeps the body within GitHub's 65,536 characters", () => {
    const body = renderStatusComment(
      { ...base, state: "failed", endedAt: now, lastActions: Array.from({ length: 50 }, () => "x".repeat(5000)) },
      { now, gateTail: "y".repeat(200_000), maxActions: 50 },
    );
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
    expect(body).toContain("…yyyy");
  });

  it("formats elapsed time", () => {
    expect(formatElapsed(45_000)).toBe("45s");
    expect(formatElapsed(192_000)).toBe("3m 12s");
    expect(formatElapsed(3_720_000)).toBe("1h 02m");
    expect(() => statusMarker("bad id -->")).toThrow(/run id must be a plain token, got "bad id -->"/);
  });
});
