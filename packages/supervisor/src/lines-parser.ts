import type { AgentEvent } from "./types";

/** Parser for agents without a structured stream: every non-empty stdout line is a `line` event. */
export function createLinesParser(): (line: string) => AgentEvent[] {
  return function parseLine(line) {
    return line.trim() === "" ? [] : [{ type: "line", text: line }];
  };
}
