import { resolve } from "node:path";
import { type GitCredentials, redactUrl } from "@forgehand/core";

/**
 * Makes a clone URL safe to hand to git: credentials embedded in an http(s) URL are moved out (so they
 * can travel through askpass instead of landing in `.git/config` or logs), plain paths become absolute,
 * and anything git could read as an option or as a command-running transport is refused.
 */
export function normaliseRemoteUrl(
  cloneUrl: string,
  credentials: GitCredentials | null,
): { url: string; credentials: GitCredentials | null } {
  const raw = cloneUrl.trim();
  if (!raw || raw.startsWith("-") || /[\0\r\n]/.test(raw)) {
    throw new Error(`[workspace] Expected a git clone URL, got \`${JSON.stringify(redactUrl(raw))}\``);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme) {
    if (!["http", "https", "file", "ssh", "git"].includes(scheme)) {
      throw new Error(`[workspace] Unsupported clone URL scheme \`${scheme}\` in \`${redactUrl(raw)}\``);
    }
    if (scheme !== "http" && scheme !== "https") return { url: raw, credentials };
    const parsed = new URL(raw);
    if (!parsed.username && !parsed.password) return { url: raw, credentials };
    const embedded = { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
    parsed.username = "";
    parsed.password = "";
    return { url: parsed.toString(), credentials: credentials ?? (embedded.password ? embedded : null) };
  }
  // `ext::cmd`, `fd::…` and other `<transport>::<address>` forms run helpers; a forge never sends them.
  if (raw.includes("::")) throw new Error(`[workspace] Unsupported clone URL \`${raw}\``);
  // scp-like `git@host:owner/repo.git`: a colon before the first slash.
  if (/^[^/]*:/.test(raw)) return { url: raw, credentials };
  return { url: resolve(raw), credentials };
}
