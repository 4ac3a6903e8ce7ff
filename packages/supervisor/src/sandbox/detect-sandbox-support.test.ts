import { describe, expect, it } from "vitest";
import { detectSandboxSupport } from "./detect-sandbox-support";
import { bwrapForTests } from "./test-support";

const bwrap = bwrapForTests();

describe("detectSandboxSupport", () => {
  it.skipIf(!bwrap)("finds bwrap, proves it can make the namespaces, names the agent identity", async () => {
    const s = await detectSandboxSupport();
    expect(s.problems).toEqual([]);
    expect(s.ok).toBe(true);
    expect(s.bwrap?.version).toMatch(/^bubblewrap \d/);
    if (process.getuid?.() === 0) expect(s.identity?.uid).not.toBe(0);
    else expect(s.identity?.uid).toBe(process.getuid?.());
  });

  it("a configured user that does not exist is a problem, not a crash", async () => {
    const s = await detectSandboxSupport({ configuredUser: "no-such-user-here" });
    expect(s.ok).toBe(false);
    expect(s.problems.join("\n")).toMatch(/no-such-user-here/);
  });
});
