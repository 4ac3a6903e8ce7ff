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

describe("parseSlashCommands: only what a person sees", () => {
  it("ignores a command inside an HTML comment, while a visible one works", () => {
    expect(parseSlashCommands("<!--\n/stop\n-->")).toEqual([]);
    expect(parseSlashCommands("thanks <!-- hidden\n/stop\n--> bye\n/stop")).toEqual([{ name: "stop" }]);
    // An unterminated comment hides everything after it on the forge.
    expect(parseSlashCommands("ok\n<!--\n/stop")).toEqual([]);
  });
  it("ignores commands in hidden attributes and link titles", () => {
    expect(parseSlashCommands('<img src="x.png" alt="\n/stop\n">')).toEqual([]);
    expect(parseSlashCommands('<span title="\n/run develop\n">hi</span>')).toEqual([]);
    expect(parseSlashCommands('[docs](https://x.test "\n/stop\n")')).toEqual([]);
  });
  it("reads the command a person sees, not the invisible characters around or inside it", () => {
    // Tag characters spelling "/stop" render as nothing.
    const tags = [..."/stop"].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join("");
    expect(parseSlashCommands(`${tags}\nhello`)).toEqual([]);
    // A zero-width space or bidi mark inside the token is stripped: what shows is `/stop`.
    expect(parseSlashCommands("/st\u200Bop")).toEqual([{ name: "stop" }]);
    expect(parseSlashCommands("\u202D/stop")).toEqual([{ name: "stop" }]);
    // Tag characters inside `/run` cannot append a hidden stage name.
    expect(parseSlashCommands(`/run${tags}`)).toEqual([{ name: "unknown", raw: "/run" }]);
  });
});
