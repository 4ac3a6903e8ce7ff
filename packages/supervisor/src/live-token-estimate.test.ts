import { describe, expect, it } from "vitest";
import { CHARS_PER_TOKEN, createLiveTokenEstimate, REQUEST_FLOOR_TOKENS } from "./live-token-estimate";

describe("createLiveTokenEstimate", () => {
  it("counts nothing until a model response ended", () => {
    const live = createLiveTokenEstimate();
    live.context(4000);
    expect(live.endResponse()).toBeUndefined();
  });

  it("charges each response the conversation so far: the earlier request as a cache read, the growth as input", () => {
    const live = createLiveTokenEstimate();
    const prompt = 400;
    live.context(prompt);
    live.output(80); // the model's first tool call
    const first = live.endResponse();
    expect(first).toEqual({
      inputTokens: REQUEST_FLOOR_TOKENS + prompt / CHARS_PER_TOKEN,
      cacheReadTokens: 0,
      outputTokens: 80 / CHARS_PER_TOKEN,
    });
    const toolOutput = 40_000;
    live.context(toolOutput);
    live.output(120);
    const second = live.endResponse();
    // The second request resends the first one's input (cached) plus the first answer and the tool output (new).
    expect(second).toEqual({
      inputTokens: (first?.inputTokens ?? 0) + (80 + toolOutput) / CHARS_PER_TOKEN,
      cacheReadTokens: REQUEST_FLOOR_TOKENS + prompt / CHARS_PER_TOKEN,
      outputTokens: (80 + 120) / CHARS_PER_TOKEN,
    });
    // A second end without new output (parallel calls of one response) adds nothing.
    expect(live.endResponse()).toBeUndefined();
  });
});
