import { describe, expect, it } from "vitest";
import { ConfigError, parseBytes, parseConfig } from "./index";

const withAgent = (agent: Record<string, unknown>, limits: Record<string, unknown> = {}) => ({
  agents: { claude: { command: ["claude", "-p"], ...agent } },
  stages: [{ name: "develop", label: "agent:develop", agent: "claude", prompt: "p.md", limits }],
});

const issues = (doc: unknown): string[] => {
  try {
    parseConfig(doc, {});
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
};

describe("agent sandbox config", () => {
  it("is on by default, with empty lists (each agent its own copy)", () => {
    const doc = withAgent({});
    const { config } = parseConfig(
      { ...doc, agents: { a: { command: ["x"] }, b: { command: ["y"] }, ...doc.agents } },
      {},
    );
    expect(config.agents.a?.sandbox).toEqual({
      enabled: true,
      writable: [],
      readOnly: [],
      network: { allow: [] },
      home: [],
    });
    config.agents.a?.sandbox.writable.push("/x");
    expect(config.agents.b?.sandbox.writable).toEqual([]);
  });

  it("takes writable dirs, allowed hosts, home files, a user and the cgroup limits", () => {
    const doc = withAgent(
      {
        sandbox: {
          writable: ["/var/cache/npm"],
          network: { allow: ["registry.npmjs.org:443", "*.pypi.org:443", "[::1]:8080", "127.0.0.1:9000"] },
          home: ["~/.claude/.credentials.json", "/etc/agent/settings.json"],
          user: "forgehand-agent",
        },
      },
      { memory: "2g", pids: 512 },
    );
    const { config } = parseConfig(doc, {});
    expect(config.agents.claude?.sandbox.network.allow).toHaveLength(4);
    expect(config.stages[0]?.limits).toMatchObject({ memory: 2 * 1024 ** 3, pids: 512 });
    expect(
      parseConfig({ ...doc, agents: { claude: { command: ["c"], sandbox: { enabled: false } } } }, {}).config.agents
        .claude?.sandbox.enabled,
    ).toBe(false);
  });

  it("names every bad field", () => {
    const found = issues(
      withAgent(
        {
          sandbox: {
            writable: ["relative/dir", "/"],
            network: { allow: ["api.anthropic.com", "host:99999", "http://x:1"] },
            home: ["credentials.json"],
            user: "bad user",
            extra: true,
          },
        },
        { memory: "lots", pids: 0 },
      ),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        "agents.claude.sandbox.writable[0]: must be an absolute path (and not /)",
        "agents.claude.sandbox.writable[1]: must be an absolute path (and not /)",
        expect.stringMatching(/^agents\.claude\.sandbox\.network\.allow\[0\]: use host:port/),
        "agents.claude.sandbox.network.allow[1]: port must be 1-65535",
        expect.stringMatching(/^agents\.claude\.sandbox\.network\.allow\[2\]: use host:port/),
        "agents.claude.sandbox.home[0]: use ~/… or an absolute path",
        expect.stringMatching(/^agents\.claude\.sandbox\.user: /),
        expect.stringMatching(/^agents\.claude\.sandbox: .*extra/),
        "stages[0].limits.memory: Expected a size like `512m` or `2g`, got `lots`",
        expect.stringMatching(/^stages\[0\]\.limits\.pids: /),
      ]),
    );
  });

  it("parses byte sizes in powers of 1024", () => {
    expect(parseBytes("512m")).toBe(512 * 1024 ** 2);
    expect(parseBytes("1.5G")).toBe(1.5 * 1024 ** 3);
    expect(parseBytes("64KiB")).toBe(64 * 1024);
    expect(parseBytes(4096)).toBe(4096);
    expect(() => parseBytes("0")).toThrow("> 0");
    expect(() => parseBytes("2 gigs")).toThrow("like `512m`");
  });
});
