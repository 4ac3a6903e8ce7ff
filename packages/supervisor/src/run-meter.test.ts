import { describe, expect, it } from "vitest";
import { createClaudeStreamJsonParser } from "./claude-stream-json-parser";
import { DEFAULT_PRICES } from "./estimate-cost-usd";
import { createRunMeter } from "./run-meter";
import type { AgentEvent } from "./types";

const tool = (id: string | undefined, name = "Bash") => ({ name, input: "echo", ...(id ? { id } : {}) });
const assistant = (messageId: string | undefined, tools: ReturnType<typeof tool>[]): AgentEvent => ({
  type: "assistant",
  messageId,
  usesTool: tools.length > 0,
  tools,
});

describe("createRunMeter: a tool turn is one tool call", () => {
  it("counts every tool call of a message (parallel calls), each tool-call id once", () => {
    const meter = createRunMeter({}, DEFAULT_PRICES);
    meter.apply(assistant("m1", [tool("t1"), tool("t2")]));
    // Claude prints a message once per content block: the same call on a second line is not a second turn.
    meter.apply(assistant("m1", [tool("t2")]));
    meter.apply(assistant("m1", []));
    expect(meter.turns).toBe(2);
  });

  it("without tool-call ids, keys calls by message id and position; without either, each counts", () => {
    const meter = createRunMeter({}, DEFAULT_PRICES);
    meter.apply(assistant("m1", [tool(undefined), tool(undefined)]));
    meter.apply(assistant("m1", [tool(undefined), tool(undefined)]));
    meter.apply(assistant(undefined, [tool(undefined)]));
    meter.apply(assistant(undefined, [tool(undefined)]));
    expect(meter.turns).toBe(4);
  });

  it("maxTurns fires on the tool call past the limit, inside a message of parallel calls", () => {
    const meter = createRunMeter({ maxTurns: 2 }, DEFAULT_PRICES);
    expect(meter.apply(assistant("m1", [tool("a")])).limit).toBeUndefined();
    expect(meter.apply(assistant("m2", [tool("b"), tool("c")])).limit).toEqual({
      reason: "turn_limit",
      detail: "turn limit: tool call 3 exceeds maxTurns 2",
    });
  });

  it("ignores Claude's num_turns (model round trips) and takes the CLI's modelUsage USD when total_cost_usd is absent", () => {
    const parse = createClaudeStreamJsonParser();
    const meter = createRunMeter({}, DEFAULT_PRICES);
    const result = {
      type: "result",
      subtype: "success",
      is_error: false,
      num_turns: 7,
      modelUsage: {
        "claude-opus-5-5": { inputTokens: 10, outputTokens: 5, costUSD: 0.25 },
        "claude-haiku-4-5": { inputTokens: 10, outputTokens: 5, costUSD: 0.5 },
      },
    };
    for (const event of parse(JSON.stringify(result))) meter.apply(event);
    expect(meter.turns).toBe(0);
    expect(meter.costUsd).toBe(0.75);
  });
});
