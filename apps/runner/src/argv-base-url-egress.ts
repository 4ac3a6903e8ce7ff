/**
 * `host:port` of every `base_url` codex's argv configures (`-c model_providers.<id>.base_url=http://h:p/v1`):
 * a custom provider is the codex counterpart of `ANTHROPIC_BASE_URL`, so its host joins the egress allowlist.
 */
export function argvBaseUrlEgress(command: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < command.length - 1; i++) {
    if (command[i] !== "-c" && command[i] !== "--config") continue;
    const m = /^model_providers\.[A-Za-z0-9_-]+\.base_url\s*=\s*["']?([^"']+)["']?$/.exec(command[i + 1] as string);
    if (!m) continue;
    let url: URL;
    try {
      url = new URL(m[1] as string);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    out.push(`${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`);
  }
  return out;
}
