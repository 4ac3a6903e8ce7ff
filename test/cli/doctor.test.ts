import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { freePort } from "@forgehand/queue";
import { describe, expect, it } from "vitest";
import { testRedisUrl } from "../helpers/redis";
import { startForgeEmulator } from "../support/forge-emulator";
import { cleanEnv, runForgehand, tempDir } from "./run-forgehand";

/** A directory with a forgehand.yml whose single agent is a program in `bin/`. */
function workspace(agentProgram: string) {
  const dir = tempDir("doctor");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "fake-agent"), "#!/bin/sh\necho ok\n");
  chmodSync(join(bin, "fake-agent"), 0o755);
  writeFileSync(
    join(dir, "forgehand.yml"),
    `agents:
  bot: { command: [${agentProgram}, --print], env: { KEY: "\${DOCTOR_TEST_KEY}" } }
stages:
  - { name: develop, label: "agent:develop", agent: bot, prompt: "inline: do it" }
`,
  );
  const env = cleanEnv({
    PATH: `${bin}:${process.env.PATH}`,
    FORGEHAND_DATA_DIR: join(dir, "data"),
    DOCTOR_TEST_KEY: "set",
  });
  return { dir, env };
}

const CHECK_LINE = /^[✓✗-] \S/;

function lines(stdout: string) {
  return stdout.split("\n").filter((l) => CHECK_LINE.test(l));
}

describe("forgehand doctor", { timeout: 90_000 }, () => {
  it("prints one ✓ line per check and exits 0 when everything is in place", async () => {
    const { dir, env } = workspace("fake-agent");
    const { code, stdout } = await runForgehand(["doctor"], {
      cwd: dir,
      env: {
        ...env,
        REDIS_URL: testRedisUrl(),
        GITHUB_TOKEN: "ghp_x",
        GITHUB_WEBHOOK_SECRET: "s",
        FORGEHAND_GITHUB_LOGIN: "forgehand-bot",
      },
    });
    const checks = lines(stdout);
    expect(checks.map((l) => l.slice(2).split(/\s+/)[0])).toEqual([
      "config",
      "config",
      "redis",
      "github",
      "github",
      "github",
      "gitea",
      "agent",
      "sandbox",
      "sandbox",
      "git",
      "data",
      "webhook",
    ]);
    expect(checks.filter((l) => l.startsWith("✗"))).toEqual([]);
    expect(stdout).toMatch(/✓ sandbox\s+bubblewrap .* agents run as /);
    expect(stdout).toContain(`${testRedisUrl()} answers PING`);
    expect(stdout).toMatch(/agent bot\s+fake-agent → .*\/bin\/fake-agent/);
    expect(stdout).toMatch(/- gitea\s+not configured/);
    expect(code).toBe(0);
  });

  it("fails (exit 1) with a ✗ line for each problem, and does not hang on a dead Redis", async () => {
    const { dir, env } = workspace("no-such-agent-binary");
    const deadPort = await freePort();
    const { code, stdout, ms } = await runForgehand(["doctor"], {
      cwd: dir,
      env: {
        ...env,
        DOCTOR_TEST_KEY: "",
        REDIS_URL: `redis://127.0.0.1:${deadPort}`,
        GITEA_URL: "not a url",
        GITEA_TOKEN: "t",
        FORGEHAND_GITEA_LOGIN: "bot",
      },
    });
    expect(code).toBe(1);
    const failed = lines(stdout).filter((l) => l.startsWith("✗"));
    expect(failed.join("\n")).toMatch(/config vars\s+unset: \$\{DOCTOR_TEST_KEY\} \(at agents\.bot\.env\.KEY\)/);
    expect(failed.join("\n")).toMatch(
      new RegExp(`redis\\s+Redis at redis://127.0.0.1:${deadPort} does not answer: connect ECONNREFUSED`),
    );
    expect(failed.join("\n")).toMatch(/gitea\s+GITEA_URL is not a URL: `not a url`/);
    expect(failed.join("\n")).not.toMatch(/gitea login/);
    expect(failed.join("\n")).toMatch(/gitea secret\s+GITEA_WEBHOOK_SECRET is unset/);
    expect(failed.join("\n")).toMatch(/agent bot\s+`no-such-agent-binary` is not on PATH/);
    expect(failed).toHaveLength(5);
    expect(ms).toBeLessThan(15_000);
  });

  it("gives up on a Redis that accepts connections but never answers, within its timeout", async () => {
    const { dir, env } = workspace("fake-agent");
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const { port } = silent.address() as AddressInfo;
    try {
      const { code, stdout, ms } = await runForgehand(["doctor"], {
        cwd: dir,
        env: {
          ...env,
          REDIS_URL: `redis://127.0.0.1:${port}`,
          // The same silent server plays a GitHub API that never answers: login discovery gives up too.
          GITHUB_API_URL: `http://127.0.0.1:${port}`,
          GITHUB_TOKEN: "x",
          GITHUB_WEBHOOK_SECRET: "s",
        },
      });
      expect(stdout).toMatch(new RegExp(`✗ redis\\s+Redis at redis://127.0.0.1:${port} does not answer`));
      expect(stdout).toMatch(
        /✗ github login\s+FORGEHAND_GITHUB_LOGIN is unset and the forge did not say who the bot is \(.*\): set FORGEHAND_GITHUB_LOGIN/,
      );
      expect(code).toBe(1);
      // Bounded (a hang would never return); generous, as CI shares 2 cores with other suites.
      expect(ms).toBeLessThan(25_000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it("asks the forge for the bot login when FORGEHAND_*_LOGIN is unset", async () => {
    const { dir, env } = workspace("fake-agent");
    const gh = await startForgeEmulator({ flavour: "github", tokens: { "bot-token": "gh-bot" } });
    const gt = await startForgeEmulator({ flavour: "gitea", tokens: { "bot-token": "gt-bot" } });
    try {
      const { code, stdout } = await runForgehand(["doctor"], {
        cwd: dir,
        env: {
          ...env,
          REDIS_URL: testRedisUrl(),
          GITHUB_TOKEN: "bot-token",
          GITHUB_API_URL: gh.apiUrl,
          GITHUB_WEBHOOK_SECRET: "s",
          GITEA_URL: gt.url,
          GITEA_TOKEN: "bot-token",
          GITEA_WEBHOOK_SECRET: "s",
        },
      });
      expect(stdout).toMatch(/✓ github login\s+discovered as gh-bot/);
      expect(stdout).toMatch(/✓ gitea login\s+discovered as gt-bot/);
      expect(code, stdout).toBe(0);
      const bad = await runForgehand(["doctor"], {
        cwd: dir,
        env: { ...env, REDIS_URL: testRedisUrl(), GITEA_URL: gt.url, GITEA_TOKEN: "wrong", GITEA_WEBHOOK_SECRET: "s" },
      });
      expect(bad.stdout).toMatch(/✗ gitea login\s+FORGEHAND_GITEA_LOGIN is unset and the forge did not say .*401/);
      expect(bad.code).toBe(1);
    } finally {
      await gh.close();
      await gt.close();
    }
  });

  it("checks a GitHub App key: a real PEM passes, garbage fails", async () => {
    const { dir, env } = workspace("fake-agent");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const keyPath = join(dir, "app.pem");
    writeFileSync(keyPath, pem);
    const good = await runForgehand(["doctor"], {
      cwd: dir,
      env: {
        ...env,
        GITHUB_APP_ID: "12345",
        GITHUB_PRIVATE_KEY_PATH: keyPath,
        GITHUB_WEBHOOK_SECRET: "s",
        FORGEHAND_GITHUB_LOGIN: "my-app[bot]",
      },
    });
    expect(good.stdout).toMatch(/✓ github\s+GitHub App 12345, private key parses/);
    expect(good.code).toBe(0);
    const bad = await runForgehand(["doctor"], {
      cwd: dir,
      env: {
        ...env,
        GITHUB_APP_ID: "12345",
        GITHUB_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nnope\n",
        GITHUB_WEBHOOK_SECRET: "s",
      },
    });
    expect(bad.stdout).toMatch(/✗ github\s+the GitHub App private key does not parse/);
    expect(bad.code).toBe(1);
  });

  it("reports a config that does not load as one ✗ line with the bad fields", async () => {
    const dir = tempDir("doctor-bad");
    writeFileSync(join(dir, "forgehand.yml"), "agents: {}\nstages: []\n");
    const { code, stdout } = await runForgehand(["doctor"], { cwd: dir, env: cleanEnv({ GITHUB_TOKEN: "x" }) });
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ config\s+.*agents: define at least one agent; stages: define at least one stage/);
    expect(stdout).toMatch(/✗ agents\s+not checked/);
  });
});
