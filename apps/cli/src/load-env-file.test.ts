import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEnvFile } from "./load-env-file";

describe("loadEnvFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "forgehand-envfile-"));

  it("sets unset variables from the file; the existing environment wins", () => {
    const path = join(dir, ".env");
    writeFileSync(path, 'GITHUB_TOKEN=from-file\nPORT=4000\n# comment\nKEY="a\\nb"\nEMPTY=\n');
    const env: Record<string, string | undefined> = { PORT: "3000", EMPTY: "" };
    expect(loadEnvFile(path, env).sort()).toEqual(["GITHUB_TOKEN", "KEY"]);
    expect(env).toEqual({ PORT: "3000", EMPTY: "", GITHUB_TOKEN: "from-file", KEY: "a\nb" });
  });

  it("ignores a missing file and names an unreadable one", () => {
    expect(loadEnvFile(join(dir, "nope.env"), {})).toEqual([]);
    expect(() => loadEnvFile(dir, {})).toThrow(/cannot read .* \(EISDIR\)/);
  });
});
