import { RunRecord } from "@forgehand/core";
import { describe, expect, it } from "vitest";
import { formatRunsTable } from "./format-runs";

describe("formatRunsTable", () => {
  it("shows '-' elapsed for a run that never started and plain counts without limits", () => {
    const run = RunRecord.parse({
      id: "r1",
      forge: "gitea",
      repo: "a/b",
      issue: 2,
      stage: "review",
      state: "queued",
      createdAt: 0,
    });
    expect(formatRunsTable([run], 10_000).split("\n")[1]).toBe("r1  a/b#2  review  queued  -        0      $0.00");
  });

  it("shows elapsed as the status comment does, with turns and cost against their limits", () => {
    const run = RunRecord.parse({
      id: "r2",
      forge: "github",
      repo: "acme/app",
      issue: 7,
      stage: "develop",
      state: "running",
      createdAt: 0,
      startedAt: 1_000,
      turns: 3,
      maxTurns: 40,
      costUsd: 0.5,
      budgetUsd: 2,
    });
    const row = formatRunsTable([run], 193_000).split("\n")[1];
    expect(row).toBe("r2  acme/app#7  develop  running  3m 12s   3/40   $0.50/$2.00");
  });
});
