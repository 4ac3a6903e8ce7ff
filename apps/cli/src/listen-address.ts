/** Where the HTTP server listens, said truthfully: the bound address, and a URL a local client can open. */
export interface ListenAddress {
  /** `host:port` as bound, e.g. `0.0.0.0:3000` (every IPv4 interface) or `127.0.0.1:3000`. */
  bind: string;
  /** A URL that reaches the server from this machine (a wildcard bind is reached over loopback). */
  url: string;
}

const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

/** Describes a listening server from the address it bound (not the one asked for: port 0 becomes real). */
export function listenAddress(address: string, port: number): ListenAddress {
  const v6 = address.includes(":");
  const hostPart = v6 ? `[${address}]` : address;
  const local = WILDCARDS.has(address) ? (v6 ? "[::1]" : "127.0.0.1") : hostPart;
  const scope = WILDCARDS.has(address) ? " (every interface)" : "";
  return { bind: `${hostPart}:${port}${scope}`, url: `http://${local}:${port}` };
}
