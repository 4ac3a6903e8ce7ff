import { describe, expect, it } from "vitest";
import { createGeminiStderrRetryReader } from "./gemini-stderr-retry";

describe("createGeminiStderrRetryReader", () => {
  it("turns gemini-cli 0.61.0's attempt/retrying pair into one api_retry with the CLI's own delay", () => {
    const read = createGeminiStderrRetryReader();
    // Verbatim stderr of the real CLI against the scripted server (429 with Retry-After 3).
    expect(read("Ripgrep is not available. Falling back to GrepTool.")).toEqual([]);
    expect(read("Attempt 1 failed: Resource has been exhausted (e.g. check quota).")).toEqual([]);
    expect(read("Suggested retry after 3s.. Retrying after 5094ms...")).toEqual([
      {
        type: "api_retry",
        attempt: 1,
        delayMs: 5094,
        status: 429,
        error: "Resource has been exhausted (e.g. check quota).",
      },
    ]);
    // The pair is consumed: a later unrelated line yields nothing.
    expect(read("Attempt 1 failed: ignored until a retry line")).toEqual([]);
  });

  it("caps a hostile delay at one hour and ignores overlong lines", () => {
    const read = createGeminiStderrRetryReader();
    expect(read("Retrying after 999999999ms...")).toEqual([{ type: "api_retry", delayMs: 3_600_000 }]);
    expect(read(`Retrying after 5ms ${"x".repeat(3000)}`)).toEqual([]);
  });
});
