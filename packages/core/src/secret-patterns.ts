import { escapeChar } from "./literal-matcher";
import { REDACTED } from "./redact-constants";

/** Case-insensitive spelling of a word in a case-sensitive RegExp (Node 20 has no `(?i:…)`). */
const ci = (word: string) =>
  [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : escapeChar(c))).join("");

interface Pattern {
  /** Shown in tests and docs. */
  name: string;
  /**
   * RegExp source. Named groups `keep` (kept before the marker) and `tail` (kept after it) are optional;
   * group names are made unique when the patterns are joined.
   */
  source: string;
  /** Final say on a match (e.g. a `Basic` value must decode to `user:pass`). */
  accept?: (secret: string) => boolean;
  /** The pattern is skipped for a text that contains none of these (a cheap `includes` before the RegExp). */
  hints?: readonly (string | RegExp)[];
  /** Custom replacement, given the pattern's own named groups. */
  replace?: (groups: Record<string, string | undefined>, match: string) => string;
}

const NOT_ALNUM_AFTER = "(?![A-Za-z0-9])";

/** Name endings that mark the value after `=` / `:` as a secret. */
const SECRET_WORDS = [
  "token",
  "secret",
  "password",
  "passwd",
  "passphrase",
  "pwd",
  "apikey",
  "api_key",
  "api-key",
  "access_key",
  "access-key",
  "secret_key",
  "private_key",
  "private-key",
  "credentials",
  "credential",
  "_auth",
].sort((a, b) => b.length - a.length);
/** `OPENAI_KEY=` style: only an upper-case env-like name ending in `_KEY` (a `primary_key:` in prose stays). */
const ENV_KEY = "[A-Z0-9]_KEY";
const SECRET_NAME_END = `(?:${SECRET_WORDS.map(ci).join("|")}|${ENV_KEY})`;
/** A value that is a placeholder or already redacted (`${TOKEN}`, `<token>`, `[REDACTED]`, `%s`, `***`) is left as is. */
const NOT_PLACEHOLDER = "(?![$<{%[*(])";
/** Code on the right of `token =` (a call, `process.env.X`) is not a value. */
const NOT_CODE = "(?![A-Za-z_$][\\w$.]*\\(|process\\.env\\.)";
const UNQUOTED_VALUE = `${NOT_PLACEHOLDER}${NOT_CODE}[^\\s"'\`,;&()}\\]]{6,}`;
const QUOTED_VALUE = `"${NOT_PLACEHOLDER}(?:[^"\\\\\\r\\n]|\\\\.){4,}"|'${NOT_PLACEHOLDER}[^'\\r\\n]{4,}'`;
const ASSIGN = `["']?[ \\t]*[:=][ \\t]*`;

/**
 * `prefix` not preceded by a letter or digit. The look-behind comes after the literal so that V8 can scan
 * for the literal (GB/s) instead of testing the look-behind at every position (≈300 MB/s).
 */
const word = (prefix: string, rest = "") => `${prefix}(?<![A-Za-z0-9]${prefix})${rest}`;

export const SECRET_PATTERNS: readonly Pattern[] = [
  // URL userinfo first: `https://x-access-token:<t>@host` keeps its user, not lost to `token:`. A user name
  // that looks like a token (`https://<token>@host`, `https://<token>:x-oauth-basic@host`) goes too.
  {
    name: "url-userinfo",
    hints: ["://"],
    // Anchored on `://` (the scheme before it is looked behind at, and stays as it is).
    source: `://(?<=[A-Za-z0-9+.-]://)(?<user>[^\\s:/?#@"'<>]*)(?::(?<pass>[^\\s/?#"'<>]*))?@(?=[^\\s@/])`,
    replace: (g, match) => {
      const user = g.user ?? "";
      if (user.length >= 20) return `://${REDACTED}@`;
      return g.pass === undefined ? match : `://${user}:${REDACTED}@`;
    },
  },
  { name: "github-token", hints: ["gh"], source: `${word("gh")}[pousr]_[A-Za-z0-9]{20,}${NOT_ALNUM_AFTER}` },
  { name: "github-pat", hints: ["github_pat_"], source: `${word("github_pat_")}[A-Za-z0-9_]{20,}` },
  { name: "gitlab-token", hints: ["gl"], source: `${word("gl")}(?:pat|dt|rt|cbt|ptt|soat)-[A-Za-z0-9_-]{20,}` },
  { name: "anthropic-key", hints: ["sk-ant-"], source: `${word("sk-ant-")}[A-Za-z0-9_-]{10,}` },
  // OpenAI: `sk-` + ≥20 token characters with a digit among them, not inside a word (`task-list`, `desk-…`).
  {
    name: "openai-key",
    hints: ["sk-"],
    source: `sk-(?<![A-Za-z0-9_-]sk-)(?:(?:proj|svcacct|admin)-)?(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}`,
  },
  { name: "stripe-key", hints: ["k_live_", "k_test_"], source: `${word("[sr]k_")}(?:live|test)_[A-Za-z0-9]{16,}` },
  {
    name: "slack-token",
    hints: ["xox", "xapp-"],
    source: `(?:${word("xox")}[abposr]-[A-Za-z0-9-]{10,}|${word("xapp-")}[0-9]-[A-Za-z0-9-]{10,})`,
  },
  { name: "npm-token", hints: ["npm_"], source: `${word("npm_")}[A-Za-z0-9]{36}${NOT_ALNUM_AFTER}` },
  { name: "google-api-key", hints: ["AIza"], source: `${word("AIza")}[0-9A-Za-z_-]{35}` },
  {
    name: "aws-access-key-id",
    hints: ["AKIA", "ASIA"],
    source: `${word("A[KS]IA")}[0-9A-Z]{16}${NOT_ALNUM_AFTER}`,
  },
  { name: "huggingface-token", hints: ["hf_"], source: `${word("hf_")}[A-Za-z0-9]{34,}${NOT_ALNUM_AFTER}` },
  { name: "jwt", hints: ["eyJ"], source: `${word("eyJ")}[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}` },
  // `Authorization: Bearer …`, `Authorization: token …`, `Authorization: Basic …`: the scheme stays.
  {
    name: "authorization-header",
    hints: [/uthorization/i],
    source: `(?<keep>${ci("authorization")}${ASSIGN}["']?(?:(?:${ci("bearer")}|${ci("token")}|${ci("basic")}|${ci("digest")}|${ci("bot")})[ \\t]+)?)[^\\s"',;]{6,}`,
  },
  {
    name: "bearer",
    hints: ["earer"],
    source: `(?<keep>${word("[Bb]earer")}[ \\t]+)(?=[A-Za-z._~+/-]*[0-9])[A-Za-z0-9._~+/-]{16,}=*`,
  },
  {
    name: "basic-auth",
    hints: ["asic"],
    source: `(?<keep>${word("[Bb]asic")}[ \\t]+)[A-Za-z0-9+/]{8,}={0,2}${NOT_ALNUM_AFTER}`,
    accept: (s) => /^[\x20-\x7e]*:[\x20-\x7e]*$/.test(Buffer.from(s, "base64").toString("latin1")),
  },
  // `GITHUB_TOKEN=…`, `"GITEA_TOKEN": "…"`, `password: …`, `x-access-token:…`, `//registry/:_authToken=…`.
  // Anchored on the `:`/`=`; the name before it is looked behind at.
  {
    name: "secret-assignment",
    source: `(?<keep>[:=](?<=${SECRET_NAME_END}["']?[ \\t]*[:=])[ \\t]*)(?:${QUOTED_VALUE}|${UNQUOTED_VALUE})`,
  },
  // `--token abc…`, `--password abc…`
  {
    name: "secret-flag",
    hints: ["--"],
    source: `(?<keep>--(?:[a-z]+-)*(?:token|password|secret|api-key)[ \\t]+)${NOT_PLACEHOLDER}(?!-)[^\\s"'\`,;&)}\\]]{6,}`,
  },
];

/** A key up to its END line, or (cut off) up to a `"` (a JSON string's end) or the end of the text. */
const PEM_BLOCK =
  /-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[^"]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|(?="|$))/g;
/** The end of a key whose start was cut off (a tail of output): base64 lines, then the END line. */
const PEM_TAIL =
  /(?<![A-Za-z0-9+/=])(?:[A-Za-z0-9+/]{16,80}={0,2}(?:\r?\n|\\r?\\n)){1,120}[A-Za-z0-9+/]{0,80}={0,2}(?:\r?\n|\\r?\\n)?-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----/g;

/**
 * One RegExp per pattern, run one after the other: each starts with a literal (`ghp_`, `://`, `:`/`=`) that
 * V8 scans for at GB/s, where one alternation of them all is tried at every position (≈10 MB/s).
 */
const COMPILED: readonly (readonly [Pattern, RegExp])[] = SECRET_PATTERNS.map((p) => [p, new RegExp(p.source, "g")]);

/** Pattern layer only: token shapes, PEM keys, secret assignments, auth headers, URL userinfo. */
export function redactPatterns(text: string): string {
  let out = text;
  if (out.includes("PRIVATE KEY")) out = out.replace(PEM_BLOCK, REDACTED).replace(PEM_TAIL, REDACTED);
  for (const [pattern, re] of COMPILED) {
    if (pattern.hints && !pattern.hints.some((h) => (typeof h === "string" ? out.includes(h) : h.test(out)))) continue;
    out = out.replace(re, (...args: unknown[]) => {
      const match = args[0] as string;
      const groups = (args[args.length - 1] ?? {}) as Record<string, string | undefined>;
      if (pattern.replace) return pattern.replace(groups, match);
      const keep = groups.keep ?? "";
      const tail = groups.tail ?? "";
      const secret = match.slice(keep.length, match.length - tail.length);
      if (pattern.accept && !pattern.accept(secret)) return match;
      const quote = secret[0] === '"' || secret[0] === "'" ? secret[0] : "";
      return `${keep}${quote}${REDACTED}${quote}${tail}`;
    });
  }
  return out;
}

/** Names of the patterns, in the order they are tried. */
export const SECRET_PATTERN_NAMES: readonly string[] = ["pem-private-key", ...SECRET_PATTERNS.map((p) => p.name)];
