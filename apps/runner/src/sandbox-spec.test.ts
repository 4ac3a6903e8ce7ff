import { parseConfig } from "@forgehand/core";
import { describe, expect, it } from "vitest";
import { agentEgress, agentHomeDir, agentSandboxOptions, baseUrlEgress, knownAgentCli } from "./sandbox-spec";
import { fixtureRepo } from "./testing/runner-fixture";

const agentOf = (agent: Record<string, unknown>) =>
  parseConfig({
    agents: { a: agent },
    stages: [{ name: "s", label: "l", agent: "a", prompt: "inline:x" }],
  }).config.agents.a!;

describe("the agent sandbox defaults", () => {
  it("knows the vendor CLIs by executable, npm shim or package path", () => {
    expect(knownAgentCli(["claude", "-p"])).toBe("claude");
    expect(knownAgentCli(["/x/node_modules/.bin/claude"])).toBe("claude");
    expect(knownAgentCli(["node", "/x/node_modules/@anthropic-ai/claude-code/cli.js"])).toBe("claude");
    expect(knownAgentCli(["codex", "exec"])).toBe("codex");
    expect(knownAgentCli(["gemini"])).toBe("gemini");
    expect(knownAgentCli(["/usr/bin/node", "/srv/agent.mjs"])).toBeUndefined();
  });

  it("allows the vendor API, the host:port of every *_BASE_URL, and sandbox.network.allow", () => {
    expect(
      baseUrlEgress({ ANTHROPIC_BASE_URL: "http://127.0.0.1:8123", X: "http://a:1", O_BASE_URL: "https://o.test" }),
    ).toEqual(["127.0.0.1:8123", "o.test:443"]);
    const agent = agentOf({
      command: ["claude", "-p"],
      env: { ANTHROPIC_BASE_URL: "http://localhost:9000/v1" },
      sandbox: { network: { allow: ["registry.npmjs.org:443"] } },
    });
    expect(agentEgress(agent)).toEqual(["api.anthropic.com:443", "localhost:9000", "registry.npmjs.org:443"]);
    expect(agentEgress(agentOf({ command: ["/srv/bot"] }))).toEqual([]);
  });

  it("gives each issue its own HOME under the data dir; forge names cannot climb out", () => {
    const ref = { repo: fixtureRepo(), number: 7, isPr: false };
    expect(agentHomeDir("/d", ref)).toBe("/d/agent-homes/github/acme/app/7");
    const evil = { ...ref, repo: { ...ref.repo, owner: "..", name: "a/../../b" } };
    expect(agentHomeDir("/d", evil)).toBe("/d/agent-homes/github/_../a_.._.._b/7");
  });

  it("is on by default, off with enabled: false; hides the data and config dirs; limits go to the cgroup", () => {
    const input = {
      agent: agentOf({ command: ["claude"] }),
      limits: { memory: 2 * 1024 ** 3, pids: 256 },
      ref: { repo: fixtureRepo(), number: 3, isPr: false },
      runId: "run/1",
      dataDir: "/d",
      configDir: "/etc/forgehand",
    };
    const opts = agentSandboxOptions(input);
    expect(opts?.hide).toEqual(["/etc/forgehand", "/d"]);
    expect(opts?.homeDir).toBe("/d/agent-homes/github/acme/app/3");
    expect(opts?.cgroup).toEqual({
      name: expect.stringMatching(/^run_1-[0-9a-f]{8}$/),
      memoryMax: 2 * 1024 ** 3,
      pidsMax: 256,
    });
    expect(agentSandboxOptions(input, "gate")?.cgroup).toMatchObject({ name: expect.stringMatching(/^run_1-gate-/) });
    const off = { ...input, agent: agentOf({ command: ["claude"], sandbox: { enabled: false } }) };
    expect(agentSandboxOptions(off)).toBeUndefined();
    const bad = { ...input, agent: agentOf({ command: ["claude"], sandbox: { user: "no-such-user-xyz" } }) };
    if (process.getuid?.() === 0) expect(() => agentSandboxOptions(bad)).toThrow("does not exist");
  });
});
