import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { freePort } from "@forgehand/queue";
import { describe, expect, it } from "vitest";
import { cleanEnv, runForgehand, tempDir } from "./run-forgehand";

/** A forgehand.yml with the given agents block and one stage per agent, and a HOME of its own. */
function workspace(agents: string, stages?: string) {
  const dir = tempDir("doctor-first");
  const home = join(dir, "home");
  mkdirSync(home);
  writeFileSync(
    join(dir, "forgehand.yml"),
    `agents:\n${agents}\nstages:\n${stages ?? `  - { name: develop, label: "agent:develop", agent: a, prompt: "inline: do it" }`}\n`,
  );
  return { dir, home, env: cleanEnv({ HOME: home, FORGEHAND_DATA_DIR: join(dir, "data"), PORT: "0" }) };
}

const line = (stdout: string, name: string) => stdout.split("\n").find((l) => l.slice(2).startsWith(`${name} `));

describe("forgehand doctor, first-run checks", { timeout: 120_000 }, () => {
  it("fails an agent without credentials, naming the variable and the login to use", async () => {
    const { dir, env } = workspace(
      `  a: { command: [claude, -p], env: { ANTHROPIC_API_KEY: "\${ANTHROPIC_API_KEY:-}" } }`,
    );
    const { code, stdout } = await runForgehand(["doctor"], { cwd: dir, env });
    expect(line(stdout, "agent a auth")).toMatch(
      /^✗ agent a auth\s+no credentials: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN in agents\.a\.env .*`claude login`/,
    );
    expect(code).toBe(1);
  });

  it("accepts a key in the agent's env, and a login only where the sandboxed agent can see it", async () => {
    const { dir, home, env } = workspace(
      [
        `  a: { command: [claude, -p], env: { ANTHROPIC_API_KEY: "sk-ant-test" } }`,
        `  b: { command: [codex, exec] }`,
        `  c: { command: [codex, exec], sandbox: { home: ["~/.codex/auth.json"] } }`,
        `  d: { command: [gemini], env: { GEMINI_API_KEY: "g" } }`,
        `  e: { command: [some-other-cli] }`,
      ].join("\n"),
    );
    mkdirSync(join(home, ".codex"));
    writeFileSync(join(home, ".codex", "auth.json"), "{}");
    const { stdout } = await runForgehand(["doctor"], { cwd: dir, env });
    expect(line(stdout, "agent a auth")).toMatch(/^✓ .*ANTHROPIC_API_KEY is set in agents\.a\.env/);
    expect(line(stdout, "agent b auth")).toMatch(
      /^✗ .*~\/\.codex\/auth\.json exists but the sandboxed agent does not see it: add "~\/\.codex\/auth\.json" to agents\.b\.sandbox\.home/,
    );
    expect(line(stdout, "agent c auth")).toMatch(
      /^✓ .*codex's own login: ~\/\.codex\/auth\.json \(copied into the sandbox\)/,
    );
    expect(line(stdout, "agent d auth")).toMatch(/^✓ .*GEMINI_API_KEY/);
    // An unknown CLI's credentials cannot be known: no line rather than a guess.
    expect(line(stdout, "agent e auth")).toBeUndefined();
    expect(stdout).not.toContain("sk-ant-test");
  });

  it("a missing prompt file fails doctor and `start` (config error, exit 1), naming stage and path", async () => {
    const { dir, env } = workspace(
      `  a: { command: [claude, -p], env: { ANTHROPIC_API_KEY: "k" } }`,
      `  - { name: develop, label: "agent:develop", agent: a, prompt: prompts/develop.md }`,
    );
    const doctor = await runForgehand(["doctor"], { cwd: dir, env });
    expect(line(doctor.stdout, "config")).toMatch(
      /^✗ config .*stages\[0\]\.prompt: stage "develop": prompt file .*\/prompts\/develop\.md does not exist/,
    );
    expect(doctor.code).toBe(1);
    const start = await runForgehand(["start", "--port", "0"], { cwd: dir, env });
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/stage "develop": prompt file .*prompts\/develop\.md does not exist/);
    // With the file in place, the config check passes.
    mkdirSync(join(dir, "prompts"));
    writeFileSync(join(dir, "prompts", "develop.md"), "Do {{issue.title}}\n");
    const fixed = await runForgehand(["doctor"], { cwd: dir, env });
    expect(line(fixed.stdout, "config")).toMatch(/^✓ config/);
  });

  it("checks the webhook URL it would print: forgehand answering ✓, another program ✗, nothing listening -", async () => {
    const { dir, env } = workspace(`  a: { command: [claude, -p], env: { ANTHROPIC_API_KEY: "k" } }`);
    const serve = async (body: string) => {
      const server = createServer((_req, res) => res.writeHead(200).end(body));
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      return { port: (server.address() as AddressInfo).port, close: () => server.close() };
    };
    const forgehand = await serve('{"ok":true}');
    const other = await serve("<html>some dev server</html>");
    try {
      const up = await runForgehand(["doctor"], { cwd: dir, env: { ...env, PORT: String(forgehand.port) } });
      expect(line(up.stdout, "webhook url")).toMatch(
        new RegExp(`^✓ webhook url\\s+http://127\\.0\\.0\\.1:${forgehand.port}/webhooks/github\\|gitea answers`),
      );
      const taken = await runForgehand(["doctor"], { cwd: dir, env: { ...env, PORT: String(other.port) } });
      expect(line(taken.stdout, "webhook url")).toMatch(/^✗ webhook url\s+.* answers, but not as forgehand/);
    } finally {
      forgehand.close();
      other.close();
    }
    const port = await freePort();
    const free = await runForgehand(["doctor"], { cwd: dir, env: { ...env, PORT: String(port) } });
    expect(line(free.stdout, "webhook url")).toMatch(
      new RegExp(`^- webhook url\\s+http://127\\.0\\.0\\.1:${port}/webhooks/… is not up yet`),
    );
  });
});
