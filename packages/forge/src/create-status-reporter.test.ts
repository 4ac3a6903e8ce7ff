import type { IssueRef, RunRecord } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { type ForgeEmulator, startForgeEmulator } from "../../../test/support/forge-emulator";
import { createStatusReporter } from "./create-status-reporter";
import { createGiteaClient } from "./gitea-client";
import { renderStatusComment } from "./render-status-comment";

const ref: IssueRef = {
  repo: { forge: "gitea", fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "x" },
  number: 1,
  isPr: false,
};
const base: RunRecord = {
  id: "r1",
  forge: "gitea",
  repo: "acme/app",
  issue: 1,
  isPr: false,
  stage: "develop",
  state: "running",
  createdAt: 1_000,
  startedAt: 1_000,
  turns: 0,
  maxTurns: 200,
  costUsd: 0,
  attempts: 1,
  lastActions: [],
};

let emu: ForgeEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function setup() {
  emu = await startForgeEmulator({ flavour: "gitea" });
  emu.addRepo("acme/app");
  emu.addIssue("acme/app", { number: 1 });
  const forge = createGiteaClient({ url: emu.url, token: "test-token", maxRetries: 0 });
  const comments = () => emu!.state.repos.get("acme/app")!.comments;
  const count = (method: string) => emu!.calls.filter((c) => c.method === method && c.path.includes("comments")).length;
  return { emu, forge, comments, count };
}

async function until(cond: () => boolean, ms = 10_000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const render = (r: RunRecord) => renderStatusComment(r, { now: 61_000 });

describe("status reporter", () => {
  it("posts at once, then coalesces 100 rapid updates into a few edits and lands the final state", async () => {
    const { forge, comments, count } = await setup();
    const reporter = createStatusReporter({ forge, ref, runId: "r1", intervalMs: 400, render });
    reporter.update(base);
    await until(() => comments().length === 1);
    // 100 updates spread over ~1.5 s: without the interval this would be ~100 edits.
    for (let i = 1; i <= 100; i++) {
      reporter.update({ ...base, turns: i, lastActions: [`step ${i}`] });
      await new Promise((r) => setTimeout(r, 15));
    }
    await until(() => comments()[0]!.body.includes("· 100 tool turns"));
    await reporter.finish({ ...base, turns: 100, state: "succeeded", endedAt: 200_000, prUrl: "https://x/pr/1" });
    expect(count("POST")).toBe(1);
    expect(count("PATCH")).toBeLessThanOrEqual(8);
    expect(count("PATCH")).toBeGreaterThanOrEqual(3);
    const body = comments()[0]!.body;
    expect(body).toContain("<!-- forgehand:run=r1 -->");
    expect(body).toContain("✅ `develop` succeeded");
    expect(body).toContain("https://x/pr/1");
    expect(reporter.commentId()).toBe(comments()[0]!.id);
  });

  it("edits at most once per interval and skips no-op edits", async () => {
    const { forge, comments, count } = await setup();
    const reporter = createStatusReporter({ forge, ref, runId: "r1", intervalMs: 300, render });
    reporter.update(base);
    await until(() => comments().length === 1);
    reporter.update(base); // same body
    await new Promise((r) => setTimeout(r, 450));
    expect(count("PATCH")).toBe(0);
    const t0 = Date.now();
    reporter.update({ ...base, turns: 1 });
    await until(() => count("PATCH") === 1);
    reporter.update({ ...base, turns: 2 });
    await until(() => count("PATCH") === 2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    await reporter.finish({ ...base, turns: 2, state: "failed", reason: "gate failed" });
    expect(comments()[0]!.body).toContain("❌ `develop` failed");
  });

  it("edits the comment a previous runner posted (found by its marker)", async () => {
    const { emu, forge, comments, count } = await setup();
    emu.state.repos.get("acme/app")!.comments.push({
      id: 5,
      issue: 1,
      body: "<!-- forgehand:run=r1 -->\nold",
      author: "forgehand-bot",
      createdAt: "",
      updatedAt: "",
    });
    const reporter = createStatusReporter({ forge, ref, runId: "r1", intervalMs: 10_000, render });
    reporter.update(base);
    await reporter.finish({ ...base, state: "stopped", stoppedBy: "alice", endedAt: 5_000 });
    expect(count("POST")).toBe(0);
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain("🛑 `develop` stopped");
    expect(comments()[0]!.body).toContain("stopped by @alice");
  });

  it("lands the final edit when the renderer throws and the forge fails once", async () => {
    const { emu, forge, comments } = await setup();
    let calls = 0;
    const reporter = createStatusReporter({
      forge,
      ref,
      runId: "r1",
      intervalMs: 10_000,
      retryBaseMs: 50,
      render: (r) => {
        calls++;
        if (r.state !== "running") throw new Error("renderer bug");
        return render(r);
      },
    });
    reporter.update(base);
    await until(() => comments().length === 1);
    emu.failNext("PATCH /repos/acme/app/issues/comments/*", { status: 500 });
    await reporter.finish({ ...base, state: "timed_out", endedAt: 9_000 });
    expect(calls).toBeGreaterThanOrEqual(2);
    const body = comments()[0]!.body;
    expect(body).toContain("<!-- forgehand:run=r1 -->");
    expect(body).toContain("⏱️");
    expect(body).toContain("timed_out");
    expect(emu.calls.filter((c) => c.method === "PATCH").map((c) => c.status)).toEqual([500, 200]);
  });

  it("waits out a 429 with Retry-After on the final edit and ignores updates after finish", async () => {
    const { emu, forge, comments } = await setup();
    const reporter = createStatusReporter({ forge, ref, runId: "r1", intervalMs: 10_000, render, retryBaseMs: 10 });
    reporter.update(base);
    await until(() => comments().length === 1);
    emu.failNext("PATCH /repos/acme/app/issues/comments/*", { status: 429, retryAfter: 1 });
    const t0 = Date.now();
    await reporter.finish({ ...base, state: "budget_limit", costUsd: 2.01, budgetUsd: 2 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    reporter.update({ ...base, turns: 99 });
    await new Promise((r) => setTimeout(r, 100));
    expect(comments()[0]!.body).toContain("💸 `develop` budget limit reached");
  });

  it("flush lands the newest state without waiting for the interval", async () => {
    const { forge, comments } = await setup();
    const reporter = createStatusReporter({ forge, ref, runId: "r1", intervalMs: 60_000, render });
    reporter.update(base);
    await until(() => comments().length === 1);
    reporter.update({ ...base, turns: 7 });
    await reporter.flush();
    expect(comments()[0]!.body).toContain("· 7 tool turns");
    await reporter.finish({ ...base, turns: 7, state: "succeeded" });
  });
});
