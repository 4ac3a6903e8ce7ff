// The runner runs every agent and gate in the sandbox by default; `sandbox: { enabled: false }` says so everywhere.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "@forgehand/core";
import type { RunStore } from "@forgehand/queue";
import type { Queue } from "bullmq";
import { beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../../../test/helpers/wait-for";
import { enqueueStage } from "./enqueue-stage";
import type { MemoryForge } from "./testing/memory-forge";
import { fixtureConfig } from "./testing/runner-fixture";
import { ref, useRunnerHarness } from "./testing/runner-harness";

const isRoot = process.getuid?.() === 0;

describe("runner (in process): the sandbox", () => {
  const h = useRunnerHarness();
  const { start, trigger, ended } = h;
  let dir: string;
  let store: RunStore;
  let queue: Queue;
  let forge: MemoryForge;
  beforeEach(() => {
    ({ dir, store, queue, forge } = h.state());
  });

  const finalComment = (runId: string) =>
    waitFor("the final status comment", () =>
      forge.issues
        .get(7)
        ?.comments.find((c) => c.body.includes(`forgehand:run=${runId}`) && !c.body.includes("running")),
    );

  it("sandboxed by default: another uid, a per-issue HOME kept for the next run, no ⚠ in the comment", async () => {
    const config = fixtureConfig({});
    const agent = config.agents.fixture as Config["agents"][string];
    const script = [
      "const fs = require('fs');",
      "const n = fs.existsSync(process.env.HOME + '/count') ? Number(fs.readFileSync(process.env.HOME + '/count')) : 0;",
      "fs.writeFileSync(process.env.HOME + '/count', String(n + 1));",
      "fs.writeFileSync('who.json', JSON.stringify({ uid: process.getuid(), home: process.env.HOME, n }));",
    ].join("\n");
    agent.command = [process.execPath, "-e", script];
    await start(config).start();
    const first = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("sb1") });
    expect(await ended(first)).toMatchObject({ state: "succeeded", sandboxed: true });
    const who = JSON.parse(readFileSync(join(dir, "ws", "issue-7", "who.json"), "utf8"));
    expect(who).toMatchObject({ home: "/home/agent", n: 0 });
    if (isRoot) expect(who.uid).not.toBe(0);
    // The worktree is the runner's again once the run is over (its git commits and pushes next).
    expect(statSync(join(dir, "ws", "issue-7", "who.json")).uid).toBe(process.getuid?.());
    expect((await finalComment(first)).body).not.toContain("unsandboxed");
    const home = join(dir, "data", "agent-homes", "github", "acme", "app", "7");
    expect(existsSync(join(home, "count"))).toBe(true);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    // A second run of the same issue finds its HOME (what `/retry` resume needs).
    // An operator trigger: the first run's success took the stage label off, and a label run needs it still on.
    const second = await enqueueStage(queue, store, {
      ref,
      stage: "develop",
      trigger: { kind: "operator", by: "op", deliveryId: "sb2" },
    });
    expect(await ended(second)).toMatchObject({ state: "succeeded" });
    expect(JSON.parse(readFileSync(join(dir, "ws", "issue-7", "who.json"), "utf8")).n).toBe(1);
  });

  it("sandbox: { enabled: false } runs as the runner and every status comment says ⚠ unsandboxed", async () => {
    const config = fixtureConfig({ FIXTURE_WRITE: "out.txt" }, { sandbox: { enabled: false } });
    await start(config).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("us") });
    expect(await ended(runId)).toMatchObject({ state: "succeeded", sandboxed: false });
    expect((await finalComment(runId)).body).toContain("⚠ unsandboxed");
    const logText = (await store.readLog(runId)).map((e) => e.line).join("\n");
    expect(logText).toContain("⚠ unsandboxed");
  });

  it("fails closed: a sandbox that cannot be made fails the run with the reason, and runs no agent", async () => {
    const config = fixtureConfig({ FIXTURE_WRITE: "out.txt" }, { sandbox: { home: ["~/no-such-credentials.json"] } });
    await start(config).start();
    const runId = await enqueueStage(queue, store, { ref, stage: "develop", trigger: trigger("fc") });
    const run = await ended(runId);
    expect(run.state).toBe("failed");
    expect(run.reason).toContain("cannot start the sandbox, nothing was run");
    expect(run.reason).toContain("sandbox.home entry `~/no-such-credentials.json` does not exist");
    expect(existsSync(join(dir, "ws", "issue-7", "out.txt"))).toBe(false);
  });
});
