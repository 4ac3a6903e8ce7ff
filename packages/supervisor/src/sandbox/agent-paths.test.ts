import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agentReadOnlyPaths, describeSystemDirs, installTree } from "./agent-paths";

describe("agent read-only paths", () => {
  const root = mkdtempSync(join(tmpdir(), "fh-paths-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("an npm CLI brings its node_modules; <prefix>/bin/x its prefix; else its dir", () => {
    expect(installTree("/srv/app/node_modules/@anthropic-ai/claude-code/cli.js")).toBe("/srv/app/node_modules");
    expect(installTree("/opt/codex/bin/codex")).toBe("/opt/codex");
    expect(installTree("/usr/local/bin/gemini")).toBe("/usr/local/bin");
    expect(installTree("/home/me/.local/bin/claude", "/home/me")).toBe("/home/me/.local/bin");
  });

  it("resolves argv[0] on PATH through symlinks, adds a #! interpreter's tree and absolute argv paths", () => {
    const pkg = join(root, "app", "node_modules", "agent");
    mkdirSync(pkg, { recursive: true });
    const interp = join(root, "nodejs", "bin", "node");
    mkdirSync(join(root, "nodejs", "bin"), { recursive: true });
    writeFileSync(interp, "");
    writeFileSync(join(pkg, "cli.js"), `#!${interp}\n`);
    chmodSync(join(pkg, "cli.js"), 0o755);
    const bin = join(root, "bin");
    mkdirSync(bin);
    symlinkSync(join(pkg, "cli.js"), join(bin, "agent"));
    const prompt = join(root, "prompt.md");
    writeFileSync(prompt, "x");
    const paths = agentReadOnlyPaths(
      ["agent", "--append-system-prompt-file", prompt, `--mcp=${prompt}`, "/does/not/exist", "/usr/bin/env"],
      `/nonexistent:${bin}`,
    );
    expect(paths.sort()).toEqual(
      [join(bin, "agent"), join(root, "app", "node_modules"), join(root, "nodejs"), prompt].sort(),
    );
  });

  it("describes merged-/usr symlinks as symlinks and skips missing dirs", () => {
    const d = describeSystemDirs(["/usr", "/bin", "/no-such-dir"]);
    expect(d[0]).toEqual({ path: "/usr" });
    expect(d.find((x) => x.path === "/no-such-dir")).toBeUndefined();
    expect(d.length).toBe(2);
  });
});
