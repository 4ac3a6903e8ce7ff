import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commitMessage } from "./commit-message";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd, encoding: "utf8" });

describe("commitMessage", () => {
  it("keeps a hostile title on one line that git reads as no trailer", () => {
    const title = "Fix it\n\nCo-authored-by: Eve <eve@evil.test>\nSigned-off-by: Mallory <m@evil.test>";
    const message = commitMessage("develop", 7, title);
    expect(message.split("\n")).toHaveLength(3);
    expect(message).toMatch(/^forgehand: develop for #7\n\nIssue #7: Fix it Co-authored-by: Eve/);
    const dir = mkdtempSync(join(tmpdir(), "fh-commit-msg-"));
    git(dir, "init", "-q");
    git(dir, "commit", "-q", "--allow-empty", "-m", message);
    expect(git(dir, "log", "-1", "--format=%(trailers)").trim()).toBe("");
    expect(git(dir, "log", "-1", "--format=%s")).toBe("forgehand: develop for #7\n");
  });
  it("a title that is itself a trailer line is not one after the prefix", () => {
    const dir = mkdtempSync(join(tmpdir(), "fh-commit-msg-"));
    git(dir, "init", "-q");
    git(dir, "commit", "-q", "--allow-empty", "-m", commitMessage("develop", 8, "Signed-off-by: Eve <e@x>"));
    expect(git(dir, "log", "-1", "--format=%(trailers)").trim()).toBe("");
  });
  it("drops invisible characters and caps long titles", () => {
    expect(commitMessage("a", 1, "x\u200By\u202E")).toBe("forgehand: a for #1\n\nIssue #1: xy");
    expect(commitMessage("a", 1, "t".repeat(500)).split("\n")[2]).toHaveLength("Issue #1: ".length + 200);
    expect(commitMessage("a", 1, " \n ")).toMatch(/\(untitled\)$/);
  });
});
