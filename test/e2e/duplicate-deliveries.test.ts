import type { RunRecord } from "@forgehand/core";
import { afterEach, describe, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis";
import type { RecordedRequest } from "../support/model-server";
import { type E2eWorld, startE2eWorld, waitFor } from "./harness/start-e2e-world";

// Scenario 5 (issue 7): the same delivery three times, and 20 label deliveries for one issue at once →
// never two runs of the issue side by side, every delivery processed once, none twice.
let world: E2eWorld | undefined;
afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && world) console.error(world.diagnose());
  await world?.close();
  world = undefined;
});

/** Label deliveries for one issue at once, all with the stage label: each becomes a run, one at a time. */
const BURST = 20;

/** [first, last] request time of each Claude session the model server saw. */
function sessionSpans(requests: RecordedRequest[]): Array<[number, number]> {
  const spans = new Map<string, [number, number]>();
  for (const r of requests) {
    const id = String(r.headers["x-claude-code-session-id"]);
    const span = spans.get(id);
    spans.set(id, span ? [span[0], r.at] : [r.at, r.at]);
  }
  return [...spans.values()].sort((a, b) => a[0] - b[0]);
}

describe("e2e: duplicate and concurrent deliveries", () => {
  it("dedupes redeliveries and serialises a burst of label deliveries per issue", { timeout: 480_000 }, async () => {
    world = await startE2eWorld({
      // Each run: one Bash turn (so a run spans two model requests), then a final answer.
      script: (_req, ctx) =>
        ctx.toolResults > 0 ? { text: "done" } : { toolUse: { name: "Bash", input: { command: "echo hi" } } },
      // The gate always fails, so the stage label stays on the issue and every queued trigger still runs
      // (a success would remove the label, and forgehand rightly drops queued runs of a removed label).
      stages: [{ name: "develop", label: "agent:develop", gate: ["false"], limits: { timeout: "2m", stall: "60s" } }],
      config: { runner: { concurrency: 4 } },
      redisUrl: testRedisUrl(),
      prefix: uniquePrefix("e2e5"),
    });
    const w = world;
    const issue = w.openIssue("Busy issue");
    await w.addLabel(issue, "agent:develop");
    await w.emulator.deliveriesSettled();
    const original = w.emulator.deliveries.find((d) => d.event === "issues")!;
    expect(original.status).toBe(202);

    // The forge redelivers the same delivery twice more (same id, same signature).
    const again = [await w.redeliver(original), await w.redeliver(original)];
    expect(again.map((a) => a.status)).toEqual([200, 200]);
    expect(again.map((a) => a.body)).toEqual([{ duplicate: true }, { duplicate: true }]);

    // Then 20 labeled deliveries (new delivery ids) with the stage label arrive for the same issue at once.
    const burst = Array.from({ length: BURST }, () => w.emulator.deliver("issues", original.payload));
    await w.emulator.deliveriesSettled();
    if (process.env.E2E_SHOW) console.log("burst statuses", burst.map((d) => d.status).join(","));
    expect(burst.map((d) => d.status)).toEqual(Array(BURST).fill(202));
    const accepted = 1 + BURST;

    const runs = await waitFor(
      "every accepted trigger to end",
      async () => {
        const all = (await w.runs()).filter((r) => r.issue === issue);
        return all.length > 0 && all.every((r) => !["queued", "running"].includes(r.state)) && (await settledTwice(w))
          ? all
          : undefined;
      },
      { timeoutMs: 420_000, intervalMs: 1_000 },
    );
    if (process.env.E2E_SHOW)
      console.log(runs.map((r: RunRecord) => `${r.id} ${r.state} ${r.trigger} ${r.startedAt}-${r.endedAt}`));
    // Every accepted delivery ran exactly once: none lost, none twice (the redeliveries added none).
    expect(runs.length).toBe(accepted);
    expect(new Set(runs.map((r: RunRecord) => r.id)).size).toBe(runs.length);
    // One run at a time: neither the run records nor the Claude sessions overlap.
    const spans = runs
      .filter((r: RunRecord) => r.startedAt !== undefined)
      .map((r: RunRecord) => [r.startedAt!, r.endedAt ?? Number.POSITIVE_INFINITY] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    const sessions = sessionSpans(w.model.mainRequests());
    expect(sessions.length).toBe(spans.length);
    for (let i = 1; i < sessions.length; i++) expect(sessions[i]![0]).toBeGreaterThan(sessions[i - 1]![1]);
    expect(w.survivors()).toEqual([]);
  });
});

// Runs may be created lazily from queued jobs: wait until the count is stable across two polls.
let lastCount = -1;
async function settledTwice(w: E2eWorld): Promise<boolean> {
  const count = (await w.runs()).length;
  const stable = count === lastCount;
  lastCount = count;
  return stable;
}
