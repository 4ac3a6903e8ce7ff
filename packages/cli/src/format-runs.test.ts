import { describe, expect, it } from "vitest";
import { formatElapsed, formatRunsTable, parseRuns } from "./format-runs";

describe("formatElapsed", () => {
  it.each([
    [0, "0s"],
    [59_400, "59s"],
    [61_000, "1m01s"],
    [3_599_000, "59m59s"],
    [3_720_000, "1h02m"],
    [-5_000, "0s"],
  ])("%d ms → %s", (ms, text) => expect(formatElapsed(ms)).toBe(text));
});

describe("formatRunsTable", () => {
  it("shows '-' elapsed for a run that never started and plain counts without limits", () => {
    const { runs } = parseRuns([
      { id: "r1", forge: "gitea", repo: "a/b", issue: 2, stage: "review", state: "queued", createdAt: 0 },
    ]);
    expect(formatRunsTable(runs, 10_000).split("\n")[1]).toBe("r1  a/b#2  review  queued  -        0      $0.00");
  });

  it("skips records that are not runs and counts them", () => {
    expect(parseRuns([{ id: "x" }, null]).invalid).toBe(2);
  });
});
