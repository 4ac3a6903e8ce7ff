import { describe, expect, it } from "vitest";
import { parseSlashCommands } from "./slash-commands";

describe("parseSlashCommands", () => {
  it("finds a command at the start of a line, case-insensitive, with trailing text", () => {
    expect(parseSlashCommands("/STOP please, it is looping")).toEqual([{ name: "stop" }]);
  });
  it("finds several commands and the /run stage", () => {
    expect(parseSlashCommands("hi\n/run develop now\r\n/status\r/help")).toEqual([
      { name: "run", stage: "develop" },
      { name: "status" },
      { name: "help" },
    ]);
  });
  it("ignores commands inside fenced code blocks, quotes and inline code", () => {
    const body = "```\n/stop\n```\n> /stop\n`/stop`\n~~~sh\n/retry\n~~~\ntext /stop";
    expect(parseSlashCommands(body)).toEqual([]);
  });
  it("reports unknown commands but not paths", () => {
    expect(parseSlashCommands("/frobnicate\n/usr/bin/env")).toEqual([{ name: "unknown", raw: "/frobnicate" }]);
  });
  it("treats /run without a stage as unknown", () => {
    expect(parseSlashCommands("/run")).toEqual([{ name: "unknown", raw: "/run" }]);
  });
});
