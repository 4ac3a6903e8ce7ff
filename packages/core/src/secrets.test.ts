import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Config } from "./config";
import { collectSecrets, passwordOfUrl, pemBodyLines } from "./secrets";

const PEM = [
  "-----BEGIN RSA PRIVATE KEY-----",
  "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
  "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm",
  "-----END RSA PRIVATE KEY-----",
  "",
].join("\n");

const agents = (env: Record<string, string>) =>
  ({ agents: { a: { command: ["x"], parser: "lines", promptVia: "stdin", env } } }) as unknown as Pick<
    Config,
    "agents"
  >;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("collectSecrets", () => {
  it("takes forgehand's own secrets from the environment", () => {
    const env = {
      GITHUB_WEBHOOK_SECRET: "gh-hook-secret",
      GITEA_WEBHOOK_SECRET: "gitea-hook-secret",
      GITHUB_TOKEN: "ghp_token_value",
      GITEA_TOKEN: "0123456789abcdef0123456789abcdef01234567",
      FORGEHAND_API_TOKEN: "api-token-value",
      FORGEHAND_GIT_PASSWORD: "git-password-value",
      PATH: "/usr/bin",
      GITHUB_APP_ID: "123",
      FORGEHAND_PREFIX: "forgehand",
    };
    const got = collectSecrets({ env });
    for (const name of [
      "GITHUB_WEBHOOK_SECRET",
      "GITEA_WEBHOOK_SECRET",
      "GITHUB_TOKEN",
      "GITEA_TOKEN",
      "FORGEHAND_API_TOKEN",
      "FORGEHAND_GIT_PASSWORD",
    ] as const)
      expect(got).toContain(env[name]);
    expect(got).not.toContain("/usr/bin");
    expect(got).not.toContain("123");
    expect(got).not.toContain("forgehand");
  });

  it("takes every *_KEY/_TOKEN/_SECRET/_PASSWORD variable of the process and of each agent's env, nothing else", () => {
    const got = collectSecrets({
      env: { NPM_TOKEN: "npm-token-value", SOME_API_KEY: "some-api-key-value", NODE_ENV: "production" },
      config: agents({
        ANTHROPIC_API_KEY: "sk-ant-agent-key",
        DB_PASSWORD: "db-password-value",
        CLIENT_SECRET: "client-secret-value",
        ANTHROPIC_BASE_URL: "http://127.0.0.1:9999",
        MODEL: "claude-sonnet",
        EMPTY_TOKEN: "",
      }),
    });
    expect(got.sort()).toEqual(
      ["client-secret-value", "db-password-value", "npm-token-value", "sk-ant-agent-key", "some-api-key-value"].sort(),
    );
  });

  it("takes the Redis password from REDIS_URL, decoded and as written", () => {
    const got = collectSecrets({ env: { REDIS_URL: "redis://default:p%40ss%2Fword1@redis:6379/0" } });
    expect(got).toContain("p@ss/word1");
    expect(got).toContain("p%40ss%2Fword1");
    expect(collectSecrets({ env: { REDIS_URL: "redis://127.0.0.1:6379" } })).toEqual([]);
    expect(passwordOfUrl("rediss://:only-pw@h:1")).toBe("only-pw");
    expect(passwordOfUrl("not a url")).toBeUndefined();
  });

  it("takes the App private key whole (escaped and not) and each body line", () => {
    const got = collectSecrets({ env: { GITHUB_PRIVATE_KEY: PEM.replace(/\n/g, "\\n") } });
    expect(got).toContain(PEM.replace(/\n/g, "\\n"));
    expect(got).toContain(PEM);
    for (const line of PEM.split("\n").slice(1, 3)) expect(got).toContain(line);
    expect(got).not.toContain("-----BEGIN RSA PRIVATE KEY-----");
    expect(pemBodyLines(PEM)).toHaveLength(2);
  });

  it("reads GITHUB_PRIVATE_KEY_PATH and listed files (a requirepass file), skipping missing ones", () => {
    dir = mkdtempSync(join(tmpdir(), "fh-secrets-"));
    const keyPath = join(dir, "app.pem");
    const passPath = join(dir, "redis.pass");
    writeFileSync(keyPath, PEM);
    writeFileSync(passPath, "generated-redis-password\n");
    const got = collectSecrets({
      env: { GITHUB_PRIVATE_KEY_PATH: keyPath },
      files: [passPath, join(dir, "missing")],
    });
    expect(got).toContain("generated-redis-password");
    expect(got).toContain(PEM);
    expect(got).toContain(PEM.split("\n")[1]);
  });
});
