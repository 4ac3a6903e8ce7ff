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
import { buildLiteralMatcher, type LiteralMatcher } from "./literal-matcher";
import { MIN_SECRET_LENGTH, REDACTED } from "./redact-constants";
import { deepMap } from "./redact-deep";
import { secretForms } from "./secret-forms";
import { redactPatterns } from "./secret-patterns";

export { MIN_SECRET_LENGTH, REDACTED } from "./redact-constants";
export { secretForms } from "./secret-forms";
export { redactPatterns, SECRET_PATTERN_NAMES, SECRET_PATTERNS } from "./secret-patterns";

export interface Redactor {
  /** `text` with every known secret (and its encodings) and every secret-shaped string replaced by `[REDACTED]`. */
  redact(text: string): string;
  /** A copy of `value` with every string inside (arrays, plain objects; not keys) redacted; other values as they are. */
  redactDeep<T>(value: T): T;
  /**
   * Whether `text` holds the literal value (or an encoding of it) of a secret given to this redactor. Only the
   * literal layer, never the patterns: a token-shaped test fixture is not a secret forgehand holds. For checks
   * that refuse something (a push) rather than rewrite it, where a false positive would block good work.
   */
  containsSecret(text: string): boolean;
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
    containsSecret: (text) => typeof text === "string" && literal !== undefined && literal.find(text) >= 0,
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
