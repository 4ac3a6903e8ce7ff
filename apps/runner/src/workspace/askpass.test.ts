import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureAskpass } from "./askpass";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("ensureAskpass", () => {
  // Found by bench figure 9: concurrent runs in one runner preparing worktrees at once failed with
  // "ENOENT: rename askpass.sh.<pid>.<ms>.tmp" when two calls in the same millisecond shared a temp name.
  it("survives many concurrent first calls in one process, leaving one executable script and no temp files", async () => {
    const root = mkdtempSync(join(tmpdir(), "fh-askpass-"));
    dirs.push(root);
    const paths = await Promise.all(Array.from({ length: 32 }, () => ensureAskpass(root)));
    expect(new Set(paths)).toEqual(new Set([join(root, "askpass.sh")]));
    expect(readFileSync(paths[0]!, "utf8")).toContain("FORGEHAND_GIT_PASSWORD");
    expect(statSync(paths[0]!).mode & 0o777).toBe(0o700);
    expect(readdirSync(root)).toEqual(["askpass.sh"]);
  });
});
