/**
 * Git "hosts" as forgehand compares them: the origin `scheme://host[:port]` of a remote URL, lower-cased,
 * default ports dropped. Credentials go only to a remote whose origin is one of the forge's git hosts, and
 * a job's clone URL must have one of them (see the runner's workspace and `ForgeClient.gitHosts`).
 */

/** The origin of a git remote URL: `https://github.com`, `ssh://host:2222`, `file://` for local paths. */
export function gitOrigin(url: string): string | undefined {
  const raw = url.trim();
  if (!raw || /[\0\r\n\s]/.test(raw)) return undefined;
  if (/^file:\/\//i.test(raw) || raw.startsWith("/")) return "file://";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return undefined;
    }
    const scheme = parsed.protocol.slice(0, -1).toLowerCase();
    if (!["http", "https", "ssh", "git"].includes(scheme) || !parsed.hostname) return undefined;
    // WHATWG URL drops the default port only for special schemes (http/https); ssh and git keep theirs.
    const port = parsed.port && !(scheme === "ssh" && parsed.port === "22") ? `:${parsed.port}` : "";
    return `${scheme}://${parsed.hostname.toLowerCase()}${port}`;
  }
  // scp-like `user@host:path` (a colon before the first slash); `::` forms are transports, never a host.
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!:)/.exec(raw);
  return scp?.[1] ? `ssh://${scp[1].toLowerCase()}` : undefined;
}

/**
 * A configured git host (`git.credentialHosts`, `GITEA_URL`, …) as an origin: `host[:port]` means https,
 * `http(s)://host[:port]` is taken as written. Paths, credentials and other schemes are refused.
 */
export function normaliseGitHost(entry: string): string {
  const raw = entry.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let parsed: URL | undefined;
  try {
    parsed = new URL(withScheme);
  } catch {
    parsed = undefined;
  }
  const ok =
    parsed &&
    (parsed.protocol === "https:" || parsed.protocol === "http:") &&
    parsed.hostname &&
    !parsed.username &&
    !parsed.password &&
    (parsed.pathname === "/" || parsed.pathname === "") &&
    !parsed.search &&
    !parsed.hash;
  if (!ok || !parsed) {
    throw new Error(
      `Expected a git host like \`git.example.com\`, \`host:8443\` or \`https://host\`, got \`${entry}\``,
    );
  }
  return `${parsed.protocol}//${parsed.host.toLowerCase()}`;
}

/** True when `url`'s origin is one of `hosts` (origins as `normaliseGitHost`/`gitOrigin` make them). */
export function isGitHostOf(hosts: readonly string[], url: string): boolean {
  const origin = gitOrigin(url);
  return origin !== undefined && hosts.includes(origin);
}
