import { parseConfig } from "@forgehand/core";
import { describe, expect, it } from "vitest";
import { checkSandbox } from "./doctor-sandbox";

const loaded = (agents: Record<string, unknown>) => {
  const { config } = parseConfig({
    agents,
    stages: [{ name: "s", label: "l", agent: Object.keys(agents)[0], prompt: "inline:x" }],
  });
  return { config, path: "/x/forgehand.yml", baseDir: "/x", missingEnv: [] };
};

describe("doctor: the sandbox check (real bwrap)", () => {
  it("✓ when the agents can be sandboxed here, with who they run as and the cgroup line", async () => {
    const results = await checkSandbox(loaded({ a: { command: ["claude"] } }));
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ["sandbox", "ok"],
      ["sandbox cgroup", expect.stringMatching(/^(ok|skip)$/)],
    ]);
    expect(results[0]?.detail).toMatch(/bubblewrap .* at \/.*bwrap; agents run as .*\(uid \d+/);
  });

  it("✗ when an enabled agent cannot be sandboxed (its configured user does not exist); ⚠ for an unsandboxed one", async () => {
    const results = await checkSandbox(
      loaded({
        a: { command: ["claude"], sandbox: { user: "no-such-agent-user" } },
        b: { command: ["x"], sandbox: { enabled: false } },
      }),
    );
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(byName["sandbox b"]).toMatchObject({ status: "skip", detail: expect.stringContaining("⚠ unsandboxed") });
    if (process.getuid?.() === 0) {
      expect(byName.sandbox).toMatchObject({ status: "fail", detail: expect.stringContaining("no-such-agent-user") });
    }
  });

  it("✗ names what is missing when bwrap cannot make its namespaces", async () => {
    const results = await checkSandbox(loaded({ a: { command: ["claude"] } }), async () => ({
      ok: false,
      problems: ["bubblewrap (bwrap) is not installed"],
      warnings: [],
      cgroup: { available: false, reason: "no cgroup2 file system is mounted", controllers: [] },
    }));
    expect(results).toEqual([
      { name: "sandbox", status: "fail", detail: "agents a cannot run: bubblewrap (bwrap) is not installed" },
      expect.objectContaining({ name: "sandbox cgroup", status: "skip" }),
    ]);
  });
});
