/**
 * Redaction of secrets in text that leaves forgehand: status comments, PR titles and bodies, commit
 * messages, the run log and its SSE stream, log lines.
 *
 * Two layers, applied in this order by {@link createRedactor}:
 *  1. the literal values of the secrets forgehand holds (see `collectSecrets`), plus their common
 *     encodings (URL-encoded, JSON-escaped, base64 alone, base64 of `x-access-token:<value>` and the
 *     part of `base64(<anything>:<value>)` that only depends on the value, as in a Basic auth header),
 *     found in one scan of a prefix-trie RegExp, longest first, overlapping hits merged;
 *  2. patterns for secrets forgehand does not know the value of: token shapes (`ghp_…`, `glpat-…`,
 *     `sk-ant-…`, …), PEM private keys, `NAME_TOKEN=…`-style assignments, `Authorization:` headers,
 *     URL userinfo. A bare 40-hex string is NOT a pattern (commit SHAs look the same): it is redacted
 *     only in a secret context (`token=…`, `"GITEA_TOKEN": "…"`, `Authorization: token …`,
 *     `x-access-token:…`, URL userinfo) or when it is a known literal.
 */

export const REDACTED = "[REDACTED]";

/**
 * Literal values shorter than this are not redacted as literals (they would hit ordinary words and
 * numbers); {@link Redactor.skipped} counts them so start-up can say so. Patterns still apply.
 */
export const MIN_SECRET_LENGTH = 8;

/** Base64 forms are only derived for values up to this length (a PEM key gets them per body line). */
const MAX_ENCODED_SOURCE = 512;

export interface Redactor {
  /** `text` with every known secret (and its encodings) and every secret-shaped string replaced by `[REDACTED]`. */
  redact(text: string): string;
  /** A copy of `value` with every string inside (arrays, plain objects; not keys) redacted; other values as they are. */
  redactDeep<T>(value: T): T;
  /** Adds literal values later (a minted installation token, a password read after start-up). */
  add(secrets: Iterable<string | null | undefined>): void;
  /** How many distinct literal forms (values and encodings) are matched. */
  readonly literalCount: number;
  /** How many given values were not used as literals because they are shorter than the minimum length. */
  readonly skipped: number;
}

export interface RedactorOptions {
  /** Minimum length of a literal value; default {@link MIN_SECRET_LENGTH}. */
  minLength?: number;
  /** Apply the token-shape patterns too (default true). */
  patterns?: boolean;
}

/** Builds a redactor for the given literal secret values (empty and short ones are ignored, see {@link MIN_SECRET_LENGTH}). */
export function createRedactor(
  secrets: Iterable<string | null | undefined> = [],
  options: RedactorOptions = {},
): Redactor {
  const minLength = options.minLength ?? MIN_SECRET_LENGTH;
  const usePatterns = options.patterns ?? true;
  const values = new Set<string>();
  const forms = new Set<string>();
  let skipped = 0;
  let literal: LiteralMatcher | undefined;

  const add = (more: Iterable<string | null | undefined>) => {
    let changed = false;
    for (const value of more) {
      if (!value || values.has(value)) continue;
      values.add(value);
      if (value.trim().length < minLength) {
        skipped++;
        continue;
      }
      for (const form of secretForms(value, minLength)) {
        if (!forms.has(form) && !REDACTED.includes(form)) {
          forms.add(form);
          changed = true;
        }
      }
    }
    if (changed) literal = buildLiteralMatcher([...forms]);
  };
  add(secrets);

  const redact = (text: string): string => {
    if (typeof text !== "string" || text.length === 0) return text;
    let out = literal ? literal.replace(text) : text;
    if (usePatterns) out = redactPatterns(out);
    // A literal with `[` or `]` in it may have formed anew next to a `[REDACTED]` just written.
    for (let i = 0; literal && i < 3 && literal.markerish.some((l) => out.includes(l)); i++) out = literal.replace(out);
    return out;
  };

  const redactDeep = <T>(value: T): T => deepMap(value, redact, new WeakMap()) as T;

  return {
    redact,
    redactDeep,
    add,
    get literalCount() {
      return forms.size;
    },
    get skipped() {
      return skipped;
    },
  };
}

/**
 * Replaces known secret shapes and the given literal values with `[REDACTED]`.
 * Kept for existing callers; a caller that redacts often should hold a {@link createRedactor}.
 */
export function redactSecrets(text: string, literals: readonly (string | undefined)[] = []): string {
  const given = literals.filter((v): v is string => Boolean(v));
  if (given.length === 0) return redactPatterns(text);
  // Callers pass the same few lists again and again (one status comment redacts ~10 strings): reuse.
  const key = given.join("\0");
  let redactor = recent.get(key);
  if (redactor) recent.delete(key);
  else redactor = createRedactor(given);
  recent.set(key, redactor);
  if (recent.size > 16) recent.delete(recent.keys().next().value as string);
  return redactor.redact(text);
}
const recent = new Map<string, Redactor>();

/**
 * Hides the password of `scheme://user:pass@host…` (git clone URLs, redis:// URLs) before a URL is logged,
 * printed or put in an error; the user name stays, so the message still says which account was used.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/i, "$1[REDACTED]@");
}

// ---------------------------------------------------------------------------------------------
// Literal values

/** The value and the encodings it is likely to be printed in. */
export function secretForms(value: string, minLength = MIN_SECRET_LENGTH): string[] {
  const out = new Set<string>([value]);
  const trimmed = value.trim();
  if (trimmed !== value && trimmed.length >= minLength) out.add(trimmed);
  for (const v of [...out]) {
    out.add(JSON.stringify(v).slice(1, -1));
    const url = encodeURIComponent(v);
    out.add(url);
    out.add(url.replace(/%20/g, "+"));
    if (v.length <= MAX_ENCODED_SOURCE) {
      const bytes = Buffer.from(v, "utf8");
      for (const full of [bytes, Buffer.from(`x-access-token:${v}`, "utf8")]) {
        const b64 = full.toString("base64");
        out.add(b64);
        out.add(b64.replace(/=+$/, ""));
        out.add(full.toString("base64url"));
      }
      // base64(<k bytes of anything> + value + <anything>): the characters that depend on the value alone.
      for (let k = 0; k < 3; k++) {
        const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString("base64");
        const core = enc.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
        if (core.length >= minLength) {
          out.add(core);
          out.add(core.replace(/\+/g, "-").replace(/\//g, "_"));
        }
      }
    }
  }
  return [...out].filter((f) => f.length >= minLength);
}

interface LiteralMatcher {
  replace(text: string): string;
  /** The literals that share characters with the marker. */
  markerish: readonly string[];
}

interface TrieNode {
  next: Map<string, TrieNode>;
  end: boolean;
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/-]/;
const escapeChar = (ch: string) => (REGEX_SPECIAL.test(ch) ? `\\${ch}` : ch);

/**
 * One RegExp whose alternatives are the literals arranged as a prefix trie, so a text position that
 * starts no literal costs one failed character test per distinct first character (not per literal),
 * and a greedy `(…)?` at each end node makes the longest literal win at a position.
 */
function trieSource(literals: readonly string[]): string {
  const root: TrieNode = { next: new Map(), end: false };
  for (const lit of literals) {
    let node = root;
    for (const ch of lit) {
      let child = node.next.get(ch);
      if (!child) {
        child = { next: new Map(), end: false };
        node.next.set(ch, child);
      }
      node = child;
    }
    node.end = true;
  }
  const gen = (start: TrieNode): string => {
    // Follow single-child chains iteratively (a PEM line is a 64-node chain).
    let prefix = "";
    let node = start;
    while (node.next.size === 1 && !node.end) {
      const [ch, child] = node.next.entries().next().value as [string, TrieNode];
      prefix += escapeChar(ch);
      node = child;
    }
    if (node.next.size === 0) return prefix;
    const alts = [...node.next].map(([ch, child]) => escapeChar(ch) + gen(child));
    const body = alts.length === 1 ? alts[0] : `(?:${alts.join("|")})`;
    return prefix + (node.end ? `(?:${body})?` : body);
  };
  return gen(root);
}

function buildLiteralMatcher(literals: readonly string[]): LiteralMatcher | undefined {
  if (literals.length === 0) return undefined;
  const markerish = literals.filter((l) => l.includes("[") || l.includes("]"));
  const shortest = Math.min(...literals.map((l) => l.length));
  if (shortest < 2) {
    // Only with a `minLength` below 2; the trie RegExp is correct for any length.
    const re = new RegExp(trieSource(literals), "g");
    return { replace: (text) => mergeHits(text, regexHits(re, text)), markerish };
  }
  const scan = qgramScanner(literals, shortest);
  return { replace: (text) => mergeHits(text, scan(text)), markerish };
}

/** Every `[start, end)` where a literal occurs, overlapping ones included. */
type Hits = number[];

function regexHits(re: RegExp, text: string): Hits {
  const hits: Hits = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    hits.push(m.index, m.index + m[0].length);
    re.lastIndex = m.index + 1; // a literal starting inside this hit may reach beyond it
  }
  return hits;
}

/**
 * Finds literals (all at least `m` long) by hashing `q`-character windows of the text at a stride of
 * `s = m - q + 1`: every occurrence covers one such window starting at one of its first `s` offsets, so
 * the text is read once, every `s`-th window costs a hash and a bitmap probe, and only a bitmap hit is
 * checked with `startsWith`. Speed does not depend on how many literals there are.
 */
function qgramScanner(literals: readonly string[], m: number): (text: string) => Hits {
  const q = Math.min(4, m - 1 > 0 ? Math.ceil(m / 2) : 1);
  const stride = m - q + 1;
  // About 32 bitmap slots per window hash keeps false probes rare; 4 KiB to 1 MiB.
  const windows = literals.length * stride;
  const BITS = 2 ** Math.min(20, Math.max(12, Math.ceil(Math.log2(windows * 32))));
  const bitmap = new Uint8Array(BITS);
  const byHash = new Map<number, { lit: string; offset: number }[]>();
  const hashAt = (str: string, i: number): number => {
    let h = 0x811c9dc5;
    for (let k = 0; k < q; k++) h = Math.imul(h ^ str.charCodeAt(i + k), 0x01000193);
    return h >>> 0;
  };
  for (const lit of literals) {
    for (let offset = 0; offset < stride && offset + q <= lit.length; offset++) {
      const h = hashAt(lit, offset);
      bitmap[h & (BITS - 1)] = 1;
      const list = byHash.get(h) ?? [];
      byHash.set(h, list);
      if (!list.some((e) => e.lit === lit && e.offset === offset)) list.push({ lit, offset });
    }
  }
  return (text) => {
    const hits: Hits = [];
    const last = text.length - q;
    for (let j = 0; j <= last; j += stride) {
      let h = 0x811c9dc5;
      for (let k = 0; k < q; k++) h = Math.imul(h ^ text.charCodeAt(j + k), 0x01000193);
      h >>>= 0;
      if (bitmap[h & (BITS - 1)] === 0) continue;
      const list = byHash.get(h);
      if (!list) continue;
      for (const { lit, offset } of list) {
        const start = j - offset;
        if (start >= 0 && text.startsWith(lit, start)) hits.push(start, start + lit.length);
      }
    }
    return hits;
  };
}

/** Replaces the union of the hit intervals by one marker per connected run. */
function mergeHits(text: string, hits: Hits): string {
  if (hits.length === 0) return text;
  const order = Array.from({ length: hits.length / 2 }, (_, i) => i).sort(
    (x, y) => (hits[2 * x] as number) - (hits[2 * y] as number),
  );
  let out = "";
  let last = 0;
  let start = -1;
  let end = -1;
  for (const i of order) {
    const s = hits[2 * i] as number;
    const e = hits[2 * i + 1] as number;
    if (start >= 0 && s <= end) {
      if (e > end) end = e;
      continue;
    }
    if (start >= 0) {
      out += text.slice(last, start) + REDACTED;
      last = end;
    }
    start = s;
    end = e;
  }
  return out + text.slice(last, start) + REDACTED + text.slice(end);
}

// ---------------------------------------------------------------------------------------------
// Patterns

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

function deepMap(value: unknown, fn: (s: string) => string, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === "string") return fn(value);
  if (value === null || typeof value !== "object") return value;
  const hit = seen.get(value);
  if (hit !== undefined) return hit;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const v of value) out.push(deepMap(v, fn, seen));
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    if (value instanceof Error) {
      const copy = new Error(fn(value.message));
      copy.name = value.name;
      if (value.stack) copy.stack = fn(value.stack);
      seen.set(value, copy);
      return copy;
    }
    return value;
  }
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) out[k] = deepMap(v, fn, seen);
  return out;
}
