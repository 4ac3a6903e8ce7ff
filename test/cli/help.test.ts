import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "@forgehand/cli";
import { describe, expect, it } from "vitest";
import { CLI_MAIN, cleanEnv, runForgehand, tempDir } from "./run-forgehand";

const version = JSON.parse(readFileSync(join(CLI_MAIN, "..", "..", "package.json"), "utf8")).version;

describe("forgehand --help", { timeout: 90_000 }, () => {
  it("prints usage naming every command and exits 0", async () => {
    const { code, stdout } = await runForgehand(["--help"]);
    expect(code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    expect(Object.keys(COMMANDS).sort()).toEqual([
      "doctor",
      "replay",
      "runner",
      "runs",
      "setup",
      "start",
      "stop",
      "webhook",
    ]);
  });

  it("--version prints the CLI package's version and exits 0", async () => {
    for (const flag of ["--version", "-V"]) {
      const { code, stdout } = await runForgehand([flag]);
      expect(code).toBe(0);
      expect(stdout).toBe(`forgehand ${version}\n`);
    }
  });

  it("<command> --help prints that command's flags, not the global usage", async () => {
    const start = await runForgehand(["start", "--help"]);
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/^Usage: forgehand start /);
    expect(start.stdout).toMatch(/^ {2}--host ADDR/m);
    expect(start.stdout).not.toContain("Commands:");
    const runs = await runForgehand(["help", "runs"]);
    expect(runs.stdout).toMatch(/^Usage: forgehand runs \[--json\] \[--limit N\]/);
  });

  it("exits 2 for no command (usage on stderr) and for an unknown one, naming it", async () => {
    const none = await runForgehand([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("Usage: forgehand <command>");
    const unknown = await runForgehand(["launch"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "launch"');
  });

  it("rejects an unknown flag with a usage error naming it", async () => {
    const { code, stderr } = await runForgehand(["runs", "--colour"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--colour");
  });

  it("webhook and runner refuse to start without REDIS_URL", async () => {
    for (const command of ["webhook", "runner"]) {
      const { code, stderr } = await runForgehand([command]);
      expect(code).toBe(2);
      expect(stderr).toContain(`forgehand ${command} needs REDIS_URL`);
    }
  });

  it("ends quietly when the reader of its output goes away (`doctor | head -1`)", async () => {
    const tsx = join(CLI_MAIN, "..", "..", "..", "..", "node_modules", "tsx", "dist", "loader.mjs");
    // set -o pipefail: the pipeline's status is forgehand's own, not head's.
    const script = `set -o pipefail; "${process.execPath}" --import "${tsx}" "${CLI_MAIN}" doctor | head -1`;
    const child = spawn("bash", ["-c", script], { cwd: tempDir("epipe"), env: cleanEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((r) => child.on("close", r));
    expect(stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });
});
