import { COMMANDS } from "@forgehand/cli";
import { describe, expect, it } from "vitest";
import { runForgehand } from "./run-forgehand";

describe("forgehand --help", { timeout: 90_000 }, () => {
  it("prints usage naming every command and exits 0", async () => {
    const { code, stdout } = await runForgehand(["--help"]);
    expect(code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    expect(Object.keys(COMMANDS).sort()).toEqual(["doctor", "replay", "runner", "runs", "start", "stop", "webhook"]);
  });

  it("exits non-zero for no command and for an unknown one, naming it", async () => {
    const none = await runForgehand([]);
    expect(none.code).toBe(1);
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
});
