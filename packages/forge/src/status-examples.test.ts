import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RunState } from "@forgehand/core";
import { describe, expect, it } from "vitest";
import { renderStatusExamples, STATUS_EXAMPLES } from "./status-examples";

describe("README-status.md", () => {
  it("covers every run state and matches the renderer (regenerate with scripts/write-status-readme.ts)", () => {
    const md = renderStatusExamples();
    for (const ex of STATUS_EXAMPLES) expect(md).toContain(`<!-- forgehand:run=${ex.record.id} -->\n### `);
    expect(STATUS_EXAMPLES.map((e) => e.state)).toEqual(RunState.options);
    // The committed file is Biome-formatted (tables padded), so compare modulo padding.
    const norm = (t: string) =>
      t
        .replace(/-{3,}/g, "---")
        .replace(/[ \t]+/g, " ")
        .trim();
    expect(norm(readFileSync(join(import.meta.dirname, "..", "README-status.md"), "utf8"))).toBe(norm(md));
  });
});
