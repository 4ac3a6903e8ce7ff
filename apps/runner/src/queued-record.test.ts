import { Limits } from "@forgehand/core";
import { StageJob } from "@forgehand/queue";
import { describe, expect, it } from "vitest";
import { queuedRecord, recordLimits } from "./queued-record";

const job = StageJob.parse({
  kind: "stage",
  runId: "run-1",
  ref: {
    repo: { forge: "github", fullName: "acme/app", owner: "acme", name: "app", cloneUrl: "file:///tmp/app.git" },
    number: 7,
    isPr: false,
  },
  stage: "develop",
  trigger: { kind: "label", by: "alice", deliveryId: "d1" },
  requestedAt: 1_700_000_000_000,
});

describe("queuedRecord", () => {
  it("builds the queued record of a job, with the stage's limits under the record's names", () => {
    const limits = recordLimits(Limits.parse({ maxTurns: 12, maxBudgetUsd: 2.5 }));
    expect(queuedRecord(job, limits, "runner-a")).toEqual({
      id: "run-1",
      forge: "github",
      repo: "acme/app",
      issue: 7,
      isPr: false,
      stage: "develop",
      state: "queued",
      createdAt: 1_700_000_000_000,
      turns: 0,
      costUsd: 0,
      attempts: 0,
      lastActions: [],
      trigger: "label by alice",
      runner: "runner-a",
      maxTurns: 12,
      budgetUsd: 2.5,
    });
  });

  it("leaves out unset limits and the runner when there is none", () => {
    const record = queuedRecord(job, recordLimits(undefined));
    expect(Object.keys(record)).not.toContain("maxTurns");
    expect(Object.keys(record)).not.toContain("budgetUsd");
    expect(Object.keys(record)).not.toContain("runner");
    expect(queuedRecord(job)).toEqual(record);
  });
});
