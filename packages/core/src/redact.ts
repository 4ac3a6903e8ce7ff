/**
 * Patterns of secrets that may appear in agent output or error text. Quoted
 * text is passed through `redactSecrets` before it reaches a forge comment.
 */
const PATTERNS: RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bsk-ant-[A-Za-z0-9_-]{10,}/g, // Anthropic keys
  /\bsk-[A-Za-z0-9]{20,}\b/g, // OpenAI-style keys
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, // JWTs
  /(\b(?:authorization|x-api-key|api[_-]?key|token|secret|password)\b["']?\s*[:=]\s*["']?)(?:bearer\s+|token\s+)?[^\s"',;]{6,}/gi,
  /(https?:\/\/[^:/\s@]+:)[^@\s/]+(@)/g, // credentials in URLs
];

/** Replaces known secret shapes and the given literal values with `[REDACTED]`. */
export function redactSecrets(text: string, literals: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const value of literals) {
    if (value && value.length >= 6) out = out.split(value).join("[REDACTED]");
  }
  for (const re of PATTERNS) {
    out = out.replace(re, (match, prefix?: string, suffix?: string) => {
      if (typeof prefix === "string" && typeof suffix === "string" && re.source.startsWith("(https?"))
        return `${prefix}[REDACTED]${suffix}`;
      if (typeof prefix === "string" && !re.source.startsWith("(https?")) return `${prefix}[REDACTED]`;
      return match.length ? "[REDACTED]" : match;
    });
  }
  return out;
}

/**
 * Hides the password of `scheme://user:pass@host…` (git clone URLs, redis:// URLs) before a URL is logged,
 * printed or put in an error; the user name stays, so the message still says which account was used.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/i, "$1[REDACTED]@");
}
