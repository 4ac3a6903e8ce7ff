import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exec } from "../testing/exec";
import { branchName, SLUG_MAX, slugify } from "./branch-name";

describe("branchName", () => {
  it("joins prefix, issue number and a lowercase slug of the title", () => {
    expect(branchName("forgehand", 12, "Fix the login bug")).toBe("forgehand/12-fix-the-login-bug");
  });

  it("folds accents to ascii and drops other unicode", () => {
    expect(branchName("forgehand", 7, "Ärger mit Überschrift ✨ café")).toBe("forgehand/7-arger-mit-uberschrift-cafe");
    expect(branchName("forgehand", 7, "日本語のタイトル")).toBe("forgehand/7");
  });

  it("caps the slug at 40 characters without a trailing dash", () => {
    const name = branchName("forgehand", 3, `${"word ".repeat(30)}end`);
    const slug = name.slice("forgehand/3-".length);
    expect(slug.length).toBeLessThanOrEqual(SLUG_MAX);
    expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(slug.startsWith("word-word")).toBe(true);
  });

  it("turns hostile titles into plain slugs", () => {
    expect(branchName("forgehand", 5, "--upload-pack=touch /tmp/pwned")).toBe(
      "forgehand/5-upload-pack-touch-tmp-pwned",
    );
    expect(branchName("forgehand", 5, "../../etc/passwd @{u} ~1^2 x.lock")).toBe("forgehand/5-etc-passwd-u-1-2-x-lock");
    expect(branchName("forgehand", 5, "$(rm -rf /); `id`")).toBe("forgehand/5-rm-rf-id");
    expect(branchName("forgehand", 5, "")).toBe("forgehand/5");
  });

  it("rejects prefixes git would refuse or read as a flag, and bad issue numbers", () => {
    for (const bad of ["", "-x", "a..b", "a/", "/a", "a//b", ".a", "a.lock", "a b", "a~1"]) {
      expect(() => branchName(bad, 1, "t")).toThrow(/\[workspace\] Expected `branchPrefix`/);
    }
    expect(branchName("bots/forgehand", 1, "t")).toBe("bots/forgehand/1-t");
    expect(() => branchName("forgehand", 0, "t")).toThrow(/positive integer, got `0`/);
    expect(() => branchName("forgehand", 1.5, "t")).toThrow(/got `1.5`/);
  });

  it("always yields [a-z0-9-] slugs within the limit (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (title) => {
        const slug = slugify(title);
        return slug.length <= SLUG_MAX && /^([a-z0-9]+(-[a-z0-9]+)*)?$/.test(slug);
      }),
      { numRuns: 200 },
    );
  });

  it("produces names git accepts as branches", async () => {
    const titles = ["Fix the login bug", "--upload-pack=x", "a.lock", "..", "@{-1}", "ÅÄÖ", "x".repeat(100)];
    for (const title of titles) {
      const name = branchName("forgehand", 42, title);
      const { stdout } = await exec(["git", "check-ref-format", "--branch", name]);
      expect(stdout).toBe(name);
    }
  });
});
