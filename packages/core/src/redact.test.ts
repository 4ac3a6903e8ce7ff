import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Config } from "./config";
import { createRedactor, REDACTED, redactPatterns, redactSecrets, redactUrl, secretForms } from "./redact";
import { collectSecrets } from "./secrets";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const alnum = (n: number, seed = 7) => {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let x = seed;
  let out = "";
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out += chars[x % chars.length];
  }
  return out;
};
const hex40 = (seed: number) =>
  alnum(60, seed)
    .replace(/[^0-9a-f]/g, "")
    .padEnd(40, "7")
    .slice(0, 40);

// The secrets forgehand holds in a typical deployment. The Gitea token is 40 hex like a commit SHA, so
// only its literal value can catch it in prose; the webhook secret has spaces and symbols.
const PEM = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
  type: "pkcs1",
  format: "pem",
}) as string;
const ENV = {
  GITHUB_TOKEN: `ghp_${alnum(36, 1)}`,
  GITEA_TOKEN: hex40(2),
  GITHUB_WEBHOOK_SECRET: "whs-Correct-Horse-42-battery",
  GITEA_WEBHOOK_SECRET: 'gitea hook secret, with spaces & "quotes"!',
  FORGEHAND_API_TOKEN: alnum(32, 3),
  REDIS_URL: "redis://:p%40ss%2Fw0rd-xyz@127.0.0.1:6379/0",
  GITHUB_APP_ID: "12345",
  GITHUB_PRIVATE_KEY: PEM.replace(/\n/g, "\\n"),
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: "/root",
};
const CONFIG = {
  agents: {
    claude: {
      command: ["claude"],
      parser: "claude-stream-json",
      promptVia: "stdin",
      env: {
        ANTHROPIC_API_KEY: `sk-ant-api03-${alnum(40, 4)}`,
        MODEL_NAME: "claude-sonnet-4-5",
        MY_DB_PASSWORD: "hunter2!x",
      },
    },
  },
} as unknown as Pick<Config, "agents">;
const SECRETS = collectSecrets({ env: ENV, config: CONFIG });
const REDIS_PASSWORD = "p@ss/w0rd-xyz";
/** The values that must never come out (the PEM is checked line by line below). */
const MUST_HIDE = [
  ENV.GITHUB_TOKEN,
  ENV.GITEA_TOKEN,
  ENV.GITHUB_WEBHOOK_SECRET,
  ENV.GITEA_WEBHOOK_SECRET,
  ENV.FORGEHAND_API_TOKEN,
  REDIS_PASSWORD,
  "p%40ss%2Fw0rd-xyz",
  CONFIG.agents.claude?.env.ANTHROPIC_API_KEY as string,
  CONFIG.agents.claude?.env.MY_DB_PASSWORD as string,
];
const pemLines = PEM.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----"));

function expectHidden(out: string) {
  for (const s of MUST_HIDE) expect(out, `leaks ${JSON.stringify(s)}`).not.toContain(s);
  for (const line of pemLines) expect(out, "leaks a private key line").not.toContain(line);
  // No base64 of the token as git sends it (`x-access-token:<t>` in a Basic header).
  expect(out).not.toContain(b64(`x-access-token:${ENV.GITEA_TOKEN}`).slice(0, 40));
}

describe("createRedactor: a hostile agent's output", () => {
  const { redact } = createRedactor(SECRETS);
  const pemJson = JSON.stringify(PEM).slice(1, -1);
  /** [what, text, encodings that must go too (a few characters at each end may stay)] */
  const hostile: [string, string, string[]?][] = [
    [
      "`env` output with every secret",
      Object.entries({ ...ENV, GITHUB_PRIVATE_KEY: PEM, ...CONFIG.agents.claude?.env })
        .map(([k, v]) => `${k}=${v}`)
        .join("\n"),
    ],
    [
      "`cat /proc/<runner>/environ` (NUL separated)",
      Object.entries(ENV)
        .map(([k, v]) => `${k}=${v}`)
        .join("\0"),
    ],
    ["env values under innocent names", `A=${ENV.GITEA_TOKEN}\nB=${ENV.GITHUB_WEBHOOK_SECRET}\nC=${REDIS_PASSWORD}`],
    ["prose mentions", `I found ${ENV.GITEA_TOKEN} and ${ENV.FORGEHAND_API_TOKEN}; also ${ENV.GITEA_WEBHOOK_SECRET}`],
    ["glued to other text", `xx${ENV.GITEA_TOKEN}yy${ENV.FORGEHAND_API_TOKEN}zz`],
    ["`cat ~/.git-credentials`", `https://forgehand:${ENV.GITEA_TOKEN}@gitea.example.com\n`],
    ["a token as the URL user", `git clone https://${ENV.GITEA_TOKEN}@gitea.example.com/acme/app.git`],
    ["a JSON dump", JSON.stringify({ ...ENV, GITHUB_PRIVATE_KEY: PEM, agents: CONFIG.agents }, null, 2)],
    ["a one-line JSON dump", JSON.stringify({ env: { ...ENV, GITHUB_PRIVATE_KEY: PEM } })],
    ["a redis URL with the password", `connecting to redis://default:${REDIS_PASSWORD}@10.0.0.5:6379`],
    ["the redis URL as configured", `REDIS=${ENV.REDIS_URL}`],
    [
      "basic auth as git sends it",
      `> Authorization: Basic ${b64(`x-access-token:${ENV.GITEA_TOKEN}`)}`,
      [b64(`x-access-token:${ENV.GITEA_TOKEN}`)],
    ],
    [
      "basic auth with another user, not as a header",
      `creds ${b64(`bob:${ENV.GITEA_TOKEN}`)} ok`,
      [b64(`bob:${ENV.GITEA_TOKEN}`)],
    ],
    ["base64 of the value alone", `echo ${b64(ENV.FORGEHAND_API_TOKEN)} | base64 -d`, [b64(ENV.FORGEHAND_API_TOKEN)]],
    [
      "base64 of a user:pass with odd alignment",
      `X ${b64(`abcd:${ENV.GITHUB_WEBHOOK_SECRET}`)}`,
      [b64(`abcd:${ENV.GITHUB_WEBHOOK_SECRET}`)],
    ],
    [
      "URL-encoded",
      `?secret=x&k=${encodeURIComponent(ENV.GITEA_WEBHOOK_SECRET)} and ${encodeURIComponent(REDIS_PASSWORD)}`,
    ],
    ["the PEM key", `here is the key:\n${PEM}\nbye`],
    ["the PEM key's tail only", PEM.split("\n").slice(-6).join("\n")],
    ["the PEM key's head only", PEM.slice(0, 300)],
    ["one PEM body line in prose", `line: ${pemLines[3]} end`],
    ["the PEM key JSON-escaped", `{"key":"${pemJson}"}`],
    ["curl -v", `> GET /api/v1/user HTTP/1.1\n> Authorization: token ${ENV.GITEA_TOKEN}\n> User-Agent: curl`],
  ];
  for (const [name, text, encoded = []] of hostile) {
    it(`hides the secrets in ${name}`, () => {
      const out = redact(text);
      expectHidden(out);
      for (const e of encoded) expect(out).not.toContain(e.slice(4, -4));
      expect(out).toContain(REDACTED);
    });
  }

  it("keeps the text around a secret", () => {
    expect(redact(`token ${ENV.GITEA_TOKEN} expired`)).toBe(`token ${REDACTED} expired`);
    expect(redact(`https://forgehand:${ENV.GITEA_TOKEN}@gitea.example.com/x`)).toBe(
      `https://forgehand:${REDACTED}@gitea.example.com/x`,
    );
  });
});

describe("redactPatterns: secrets forgehand does not know the value of", () => {
  const hex = hex40(9);
  const shapes: [string, string, string][] = [
    // [name, text, secret that must disappear]
    ["ghp_", `token ghp_${alnum(36, 11)} here`, `ghp_${alnum(36, 11)}`],
    ["gho_", `gho_${alnum(36, 12)}`, `gho_${alnum(36, 12)}`],
    ["ghu_", `(ghu_${alnum(36, 13)})`, `ghu_${alnum(36, 13)}`],
    ["ghs_", `"ghs_${alnum(36, 14)}"`, `ghs_${alnum(36, 14)}`],
    ["ghr_", `ghr_${alnum(76, 15)}`, `ghr_${alnum(76, 15)}`],
    ["github_pat_", `github_pat_11ABCDEFG0_${alnum(59, 16)}`, alnum(59, 16)],
    ["glpat-", `glpat-${alnum(20, 17)}`, alnum(20, 17)],
    ["sk-ant-", `sk-ant-api03-${alnum(90, 18)}-AA`, alnum(90, 18)],
    ["sk-proj-", `OPENAI sk-proj-${alnum(40, 19)}_${alnum(20, 20)}`, alnum(40, 19)],
    ["sk- (legacy OpenAI)", `key sk-${alnum(48, 21)}.`, alnum(48, 21)],
    ["xoxb-", `xoxb-123456789012-1234567890123-${alnum(24, 22)}`, alnum(24, 22)],
    ["xoxp-", `xoxp-${alnum(30, 23)}`, alnum(30, 23)],
    ["npm_", `npm_${alnum(36, 24)}`, alnum(36, 24)],
    ["AIza", `AIza${alnum(35, 25)}`, alnum(35, 25)],
    ["AKIA", `aws AKIA${alnum(16, 26).toUpperCase()} id`, alnum(16, 26).toUpperCase()],
    ["JWT", `eyJhbGciOiJIUzI1NiJ9.${alnum(30, 27)}.${alnum(43, 28)}`, alnum(30, 27)],
    ["NAME_TOKEN= (env)", `GITHUB_TOKEN=${hex}`, hex],
    ["NAME_TOKEN: (yaml)", `  GITEA_TOKEN: ${hex}`, hex],
    ['"NAME_TOKEN": "…" (json)', `{"GITEA_TOKEN": "${hex}"}`, hex],
    ["NAME_SECRET=", `export WEBHOOK_SECRET='${alnum(24, 29)}'`, alnum(24, 29)],
    ["_KEY=", `OPENAI_KEY=${alnum(24, 30)}`, alnum(24, 30)],
    ["_PASSWORD= with spaces, quoted", `DB_PASSWORD="correct horse battery staple"`, "horse battery"],
    ["password=", `password=hunter2x`, "hunter2x"],
    ["x-access-token:", `x-access-token:${hex}`, hex],
    [".npmrc _authToken", `//registry.npmjs.org/:_authToken=${alnum(30, 31)}`, alnum(30, 31)],
    [".npmrc _auth", `_auth=${b64(`alice:${alnum(12, 32)}`)}`, b64(`alice:${alnum(12, 32)}`)],
    ["--token flag", `gh auth login --with-token --token ${alnum(20, 33)}`, alnum(20, 33)],
    ["Authorization: token", `Authorization: token ${hex}`, hex],
    ["Authorization: Bearer", `-H "Authorization: Bearer ${alnum(30, 34)}"`, alnum(30, 34)],
    ["Authorization: Basic", `authorization: basic ${b64(`u:${alnum(10, 35)}`)}`, b64(`u:${alnum(10, 35)}`)],
    ["bare Bearer", `sent Bearer ${alnum(30, 36)}1`, alnum(30, 36)],
    ["bare Basic", `Basic ${b64(`bob:${alnum(10, 37)}`)}`, b64(`bob:${alnum(10, 37)}`)],
    ["redis://:pw@", "redis://:s3cr3t-pw@127.0.0.1:6379", "s3cr3t-pw"],
    ["https://user:pw@", "https://alice:pa55w0rd@example.com/repo.git", "pa55w0rd"],
    ["password with @ in a URL", "https://alice:p@ss@word@example.com/x", "ss@word"],
    ["40-hex token as URL user", `https://${hex}@gitea.example.com/a/b.git`, hex],
    ["token:x-oauth-basic", `https://${hex}:x-oauth-basic@github.com/a/b`, hex],
    ["PEM block", PEM, pemLines[2] as string],
    [
      "OPENSSH PEM",
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
      "b3BlbnNzaC1rZXktdjEAAAAA",
    ],
  ];
  for (const [name, text, secret] of shapes) {
    it(`hides ${name}`, () => {
      const out = redactPatterns(text);
      expect(out).not.toContain(secret);
      expect(out).toContain(REDACTED);
    });
  }

  it("keeps the name, the scheme and the user", () => {
    expect(redactPatterns(`GITHUB_TOKEN=${hex}`)).toBe(`GITHUB_TOKEN=${REDACTED}`);
    expect(redactPatterns(`{"GITEA_TOKEN": "${hex}"}`)).toBe(`{"GITEA_TOKEN": "${REDACTED}"}`);
    expect(redactPatterns(`Authorization: Bearer ${alnum(30, 1)}`)).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactPatterns("redis://:pw123456@h:1")).toBe(`redis://:${REDACTED}@h:1`);
    expect(redactPatterns("https://x-access-token:abcdefgh@github.com/a")).toBe(
      `https://x-access-token:${REDACTED}@github.com/a`,
    );
  });

  const sha = "3f2a9c1e5b7d4a6c8e0f1a2b3c4d5e6f7a8b9c0d";
  const harmless = [
    `Merged commit ${sha} into main`,
    `fixup! ${sha}`,
    `git checkout ${sha} && git log ${sha.slice(0, 7)}`,
    `{"sha": "${sha}", "head_sha": "${sha}"}`,
    "Updated the task-list, made it risk-free; uses sk-learn and a desk-lamp",
    "ask-me-anything-about-this-topic-please",
    "Basic authentication is configured; Bearer tokens are rotated",
    "max_tokens: 4096, tokenizer: gpt2, tokens=12",
    "const token = getToken();",
    "token = process.env.GITHUB_TOKEN",
    "GITHUB_TOKEN=${GITHUB_TOKEN}",
    "password: <your password>",
    "the secret sauce is tests",
    "primary_key: id, sort_key: created_at",
    "npm_config_cache=/tmp/npm npm_lifecycle_event=test",
    "https://github.com/acme/app/pull/12 and git@github.com:acme/app.git",
    "ssh://git@gitea.example.com:2222/acme/app.git",
    "redis://127.0.0.1:6379 https://example.com:8443/x?y=1",
    "mailto:alice@example.com alice@example.com",
    "ok",
    "",
    "AKIA is short; ghp_short; xoxb-1",
    "- [x] 12 tests pass (src/index.ts:42)",
    `${REDACTED} stays ${REDACTED}`,
  ];
  for (const text of harmless) {
    it(`leaves alone: ${JSON.stringify(text.slice(0, 60))}`, () => {
      expect(createRedactor(SECRETS).redact(text)).toBe(text);
    });
  }
});

describe("createRedactor: literals", () => {
  it("does not use values shorter than 8 characters as literals, and counts them", () => {
    const r = createRedactor(["abc123", "", undefined, "   x    ", "longenough1"]);
    expect(r.skipped).toBe(2);
    expect(r.redact("abc123 and longenough1")).toBe(`abc123 and ${REDACTED}`);
  });

  it("prefers the longest literal at a position and merges overlapping hits", () => {
    const r = createRedactor(["abcdefgh", "abcdefgh12345"], { patterns: false });
    expect(r.redact("x abcdefgh12345 y")).toBe(`x ${REDACTED} y`);
    const o = createRedactor(["AAAA1111BBBB", "1111BBBB2222CC"], { patterns: false });
    expect(o.redact("-AAAA1111BBBB2222CC-")).toBe(`-${REDACTED}-`);
  });

  it("handles regex metacharacters and newlines in a value", () => {
    const v = "a.b*c+d?(e)[f]{g}|h^$\\i/j-k\nline2";
    expect(createRedactor([v], { patterns: false }).redact(`<${v}>`)).toBe(`<${REDACTED}>`);
  });

  it("add() takes values later (a minted installation token)", () => {
    const r = createRedactor([], { patterns: false });
    expect(r.redact("t=0123456789abcdef")).toBe("t=0123456789abcdef");
    r.add(["0123456789abcdef"]);
    expect(r.redact("t=0123456789abcdef")).toBe(`t=${REDACTED}`);
  });

  it("derives the encodings of a value", () => {
    const forms = secretForms("p@ss word/1");
    expect(forms).toContain("p%40ss%20word%2F1");
    expect(forms).toContain("p%40ss+word%2F1");
    expect(forms).toContain(b64("x-access-token:p@ss word/1"));
    expect(forms).toContain(b64("p@ss word/1"));
  });

  it("redactDeep redacts every string in an object, leaving other values and the input alone", () => {
    const r = createRedactor(["0123456789abcdef"]);
    const input = { a: "x 0123456789abcdef", n: 1, list: ["0123456789abcdef", null, true], d: new Date(0) };
    const out = r.redactDeep(input);
    expect(out).toEqual({ a: `x ${REDACTED}`, n: 1, list: [REDACTED, null, true], d: new Date(0) });
    expect(input.a).toBe("x 0123456789abcdef");
    const err = r.redactDeep(new Error("bad 0123456789abcdef"));
    expect(err.message).toBe(`bad ${REDACTED}`);
  });

  it("applies the patterns too unless told not to", () => {
    expect(createRedactor([]).redact(`GITHUB_TOKEN=${hex40(5)}`)).toBe(`GITHUB_TOKEN=${REDACTED}`);
    expect(createRedactor([], { patterns: false }).redact(`GITHUB_TOKEN=${hex40(5)}`)).toBe(`GITHUB_TOKEN=${hex40(5)}`);
  });

  it("catches a value with brackets that a freshly written marker completes", () => {
    const r = createRedactor(["TED]@host"]);
    const out = r.redact("redis://:pw123456@hostx and EDACTED]@host");
    expect(out).not.toContain("TED]@host");
  });

  it("redactSecrets keeps working for existing callers", () => {
    expect(redactSecrets(`push https://x-access-token:${hex40(3)}@github.com`, [hex40(3)])).not.toContain(hex40(3));
    expect(redactSecrets(`GITHUB_TOKEN=${hex40(4)}`)).toBe(`GITHUB_TOKEN=${REDACTED}`);
  });
});

describe("createRedactor: properties", () => {
  const printable = fc.string({ minLength: 0, maxLength: 200 });
  const secretChars = fc.constantFrom(
    ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/=:@!#$%^&*()[]{}<>?,;'\" \\",
  );
  const secret = fc
    .string({ unit: secretChars, minLength: 8, maxLength: 48 })
    .filter((s) => s.trim().length >= 8 && !REDACTED.includes(s));

  it("never lets a known secret through, wherever it is embedded", () => {
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 5 }),
        fc.array(printable, { minLength: 1, maxLength: 6 }),
        (secrets, parts) => {
          const text = parts.reduce((acc, part, i) => acc + part + (secrets[i % secrets.length] as string), "");
          const out = createRedactor(secrets).redact(text);
          for (const s of secrets) expect(out).not.toContain(s);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("never lets an encoded secret through (URL, base64, basic auth)", () => {
    fc.assert(
      fc.property(secret, fc.string({ maxLength: 12 }), printable, (s, user, around) => {
        const r = createRedactor([s]);
        const encoded = [encodeURIComponent(s), b64(s), b64(`x-access-token:${s}`), b64(`${user}:${s}`)];
        for (const e of encoded) {
          const out = r.redact(`${around}${e}${around}`);
          expect(out).not.toContain(s);
          // What is left of the base64 of `user:secret` is at most one partial character at each end.
          if (e === b64(`${user}:${s}`)) expect(out).not.toContain(b64(`${user}:${s}`));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("leaves text that holds no secret and no secret shape unchanged", () => {
    const plain = fc.string({ unit: fc.constantFrom(..."abcdefghij klmnop,.;:-\n0123456789"), maxLength: 300 });
    fc.assert(
      fc.property(plain, (text) => {
        expect(createRedactor(["Zq9#Zq9#Zq9#"]).redact(text)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});

describe("redactUrl", () => {
  it("hides the password of redis and git URLs, keeping the user and the rest", () => {
    expect(redactUrl("redis://default:s3cret@redis:6379/2")).toBe("redis://default:[REDACTED]@redis:6379/2");
    expect(redactUrl("rediss://:s3cret@host:6380")).toBe("rediss://:[REDACTED]@host:6380");
    expect(redactUrl("https://x-access-token:ghs_abc@github.com/acme/app.git")).toBe(
      "https://x-access-token:[REDACTED]@github.com/acme/app.git",
    );
  });

  it("leaves URLs without a password alone", () => {
    expect(redactUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
    expect(redactUrl("https://github.com/acme/app.git")).toBe("https://github.com/acme/app.git");
    expect(redactUrl("git@github.com:acme/app.git")).toBe("git@github.com:acme/app.git");
  });
});

describe("createRedactor: containsSecret (the literal layer only)", () => {
  const key = "sk-proj-Q3literalValue0123456789abcdef";
  it("finds a held value and its encodings anywhere in a text, and nothing else", () => {
    const r = createRedactor([key]);
    expect(r.containsSecret(`+const KEY = "${key}";`)).toBe(true);
    expect(r.containsSecret(`blob ${Buffer.from(key).toString("base64")} end`)).toBe(true);
    expect(r.containsSecret(encodeURIComponent(`?k=${key}&x`))).toBe(true);
    expect(r.containsSecret(`${"x".repeat(100_000)}${key}`)).toBe(true);
    expect(r.containsSecret(key.slice(0, -1))).toBe(false);
    // Token shapes the patterns redact, but that are no value forgehand holds: a test fixture, not a leak.
    const fixture = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB GITEA_TOKEN=0123456789abcdef0123456789abcdef01234567";
    expect(r.redact(fixture)).not.toBe(fixture);
    expect(r.containsSecret(fixture)).toBe(false);
    expect(createRedactor([]).containsSecret(`${key}`)).toBe(false);
  });

  it("knows values added later", () => {
    const r = createRedactor([]);
    const minted = "ghs_mintedInstallationToken0123456789";
    expect(r.containsSecret(`push ${minted}`)).toBe(false);
    r.add([minted]);
    expect(r.containsSecret(`push ${minted}`)).toBe(true);
  });
});
