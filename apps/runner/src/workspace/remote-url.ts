import { resolve } from "node:path";
import { type GitCredentials, gitOrigin, redactUrl } from "@forgehand/core";

/** A clone URL ready for git, the credentials git may use for it, and why any were withheld. */
export interface RemoteUrl {
  url: string;
  credentials: GitCredentials | null;
  /** Set when credentials were given but this URL's host is not one they are for (the log says so). */
  withheld?: string;
}

/**
 * Makes a clone URL safe to hand to git: credentials embedded in an http(s) URL are moved out (so they
 * can travel through askpass instead of landing in `.git/config` or logs), plain paths become absolute,
 * and anything git could read as an option or as a command-running transport is refused. Credentials
 * stay only when the URL is http(s) on one of `credentials.hosts`: a forged job's URL gets none.
 */
export function normaliseRemoteUrl(cloneUrl: string, credentials: GitCredentials | null): RemoteUrl {
  const out = parseRemoteUrl(cloneUrl, credentials);
  if (!out.credentials) return out;
  const origin = gitOrigin(out.url);
  const http = origin?.startsWith("http://") || origin?.startsWith("https://");
  if (origin && http && out.credentials.hosts.includes(origin)) return out;
  const hosts = out.credentials.hosts.join(", ") || "(none)";
  return {
    url: out.url,
    credentials: null,
    withheld: `credentials withheld: \`${origin ?? redactUrl(out.url)}\` is not a git host they are for (${hosts})`,
  };
}

function parseRemoteUrl(cloneUrl: string, credentials: GitCredentials | null): RemoteUrl {
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
    const embedded = {
      username: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
      // Whoever wrote them into this URL meant them for its host, and only that.
      hosts: [gitOrigin(raw) ?? ""],
    };
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
