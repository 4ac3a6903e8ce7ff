import { describe, expect, it } from "vitest";
import { isTerminal, RunState } from "./run-record";

describe("isTerminal", () => {
  it("is false only for the live states queued and running", () => {
    expect(RunState.options.filter((s) => !isTerminal(s))).toEqual(["queued", "running"]);
    expect(RunState.options.filter(isTerminal)).toEqual([
      "succeeded",
      "failed",
      "stopped",
      "timed_out",
      "stalled",
      "turn_limit",
      "budget_limit",
    ]);
  });
});
