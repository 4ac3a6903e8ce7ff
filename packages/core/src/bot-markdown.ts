import { sanitiseUntrusted } from "./sanitise-untrusted";

/** `@name` → `@\u200bname`: shown the same, but the forge notifies nobody (agent text must not page people). */
export function neutraliseMentions(text: string): string {
  return text.replace(/@(?=[A-Za-z0-9_-])/g, "@\u200b");
}

/**
 * Agent- or forge-derived Markdown the bot is about to post (a stage's output in a comment, a PR body,
 * a status comment's summary): secrets redacted first (before any cut, so no part of one shows), hidden
 * parts removed (HTML comments could forge the bot's markers), mentions neutralised, then capped.
 * The Markdown itself is kept: a plan or a review reads as one.
 */
export function botMarkdown(text: string, redact: (text: string) => string, max: number): string {
  let out = neutraliseMentions(sanitiseUntrusted(redact(text)))
    .replace(/\r\n?/g, "\n")
    .trim();
  if (out.length > max) {
    out = out.slice(0, max);
    if (/[\uD800-\uDBFF]$/.test(out)) out = out.slice(0, -1);
    out += "\n\n… [cut; the full text is in the run log]";
  }
  return out;
}
