import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_HELP } from "./command-help";
import { COMMANDS } from "./run-cli";

// The flags each command's parseFlags accepts, read from its source (`name: { type: …`).
function parsedFlags(command: string): string[] {
  const source = readFileSync(join(import.meta.dirname, "commands", `${command}.ts`), "utf8");
  return [...source.matchAll(/^\s*"?([a-z][a-z-]*)"?: \{ type: "(?:string|boolean)"/gm)].map((m) => m[1]!);
}

describe("per-command help", () => {
  it("exists for every command and lists every flag its parser accepts", () => {
    expect(Object.keys(COMMAND_HELP).sort()).toEqual(Object.keys(COMMANDS).sort());
    for (const command of Object.keys(COMMANDS)) {
      const help = COMMAND_HELP[command]!;
      expect(help, command).toMatch(new RegExp(`^Usage: forgehand ${command}\\b`));
      for (const flag of parsedFlags(command))
        expect(help, `${command} --${flag}`).toMatch(new RegExp(`^  --${flag}\\b`, "m"));
    }
    // The source scan itself finds flags (else the loop above proves nothing).
    expect(parsedFlags("start")).toEqual(["port", "host", "config"]);
    expect(parsedFlags("setup")).toContain("env-file");
  });
});
