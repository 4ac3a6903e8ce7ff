import { lookup as dnsLookup } from "node:dns/promises";
import { chmod, chown, rm } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { BlockList, connect, isIP, type Socket } from "node:net";
import type { Duplex } from "node:stream";

/** One allowlist entry: an exact host (or `*.suffix`: any name below suffix, not suffix itself) and a port. */
export interface EgressRule {
  host: string;
  port: number;
}

/** A refused connection, for the run log. */
export interface EgressDenial {
  host: string;
  port: number;
  /** `not-allowed` (not on the allowlist), `forbidden-address` (resolves to link-local/metadata/loopback),
   *  `unresolvable`, or `bad-request`. */
  reason: "not-allowed" | "forbidden-address" | "unresolvable" | "bad-request";
  /** Epoch ms. */
  at: number;
}

export interface EgressProxyOptions {
  /** Unix socket the proxy listens on (its directory is bound into the sandbox). Replaced if it exists. */
  socketPath: string;
  /** `host:port` strings (`api.anthropic.com:443`, `*.npmjs.org:443`, `127.0.0.1:8080`, `[::1]:8080`) or rules. */
  allow: ReadonlyArray<string | EgressRule>;
  /** Called for every refused connection. */
  onDenied?: (denial: EgressDenial) => void;
  /** Owner of the socket (the agent uid when the runner is root), so the agent can connect to it. */
  socketOwner?: { uid: number; gid: number };
  /** Resolver (tests); returns every address of `host`. @defaultValue dns.lookup(host, { all: true }) */
  lookup?: (host: string) => Promise<string[]>;
  /** Dial timeout for upstream connections. @defaultValue 15000 */
  connectTimeoutMs?: number;
}

export interface EgressProxy {
  socketPath: string;
  rules: EgressRule[];
  /** Every refusal so far (the most recent 1000). */
  readonly denied: EgressDenial[];
  /** Number of refusals so far (not capped). */
  readonly deniedCount: number;
  close(): Promise<void>;
}

/**
 * Never dialled, whatever the allowlist says: link-local (169.254.0.0/16 holds 169.254.169.254, the cloud
 * metadata service; fe80::/10), "this network" 0.0.0.0/8 and ::, and the metadata endpoints outside link-local.
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet("169.254.0.0", 16, "ipv4");
FORBIDDEN.addSubnet("0.0.0.0", 8, "ipv4");
FORBIDDEN.addSubnet("fe80::", 10, "ipv6");
FORBIDDEN.addAddress("::", "ipv6");
FORBIDDEN.addAddress("100.100.100.200", "ipv4"); // Alibaba Cloud metadata
FORBIDDEN.addAddress("168.63.129.16", "ipv4"); // Azure wire server
FORBIDDEN.addSubnet("fd00:ec2::", 32, "ipv6"); // AWS IPv6 metadata
/** Loopback: reachable only through an allowlisted IP literal or the name `localhost`, never a DNS answer. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

const MAX_KEPT_DENIALS = 1000;

/** Parses `host:port` (`[v6]:port` for IPv6). Throws on anything else. */
export function parseEgressRule(entry: string | EgressRule): EgressRule {
  if (typeof entry !== "string") return { host: normalizeHost(entry.host), port: checkPort(entry.port, entry) };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(entry) ?? /^([^:[\]\s]+):(\d+)$/.exec(entry);
  if (!m) throw new TypeError(`[sandbox] Expected an egress entry \`host:port\`, got \`${entry}\``);
  const host = normalizeHost(m[1]!);
  if (host.includes("*") && !/^\*\.[^*]+$/.test(host)) {
    throw new TypeError(`[sandbox] a wildcard must be a leading \`*.\`, got \`${entry}\``);
  }
  return { host, port: checkPort(Number(m[2]), entry) };
}

function checkPort(port: number, entry: unknown): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`[sandbox] Expected a port 1-65535 in \`${JSON.stringify(entry)}\``);
  }
  return port;
}

function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h;
}

/** Whether `host:port` is on the allowlist (exact host, or below a `*.suffix`). */
export function isEgressAllowed(rules: readonly EgressRule[], host: string, port: number): boolean {
  const h = normalizeHost(host);
  return rules.some(
    (r) => r.port === port && (r.host === h || (r.host.startsWith("*.") && h.endsWith(r.host.slice(1)))),
  );
}

const ipFamily = (ip: string) => (isIP(ip) === 6 ? "ipv6" : "ipv4");
/** ::ffff:a.b.c.d is a.b.c.d. */
const unmap = (ip: string) => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip) ? ip.slice(7) : ip);
const isLocalhostName = (h: string) => h === "localhost" || h.endsWith(".localhost");

/**
 * The address to dial for an allowed `host`, or why none may be: an IP literal is dialled as written (unless it is
 * forbidden); a name is resolved once, forbidden and (unless the name is `localhost`) loopback answers are dropped,
 * and the first survivor is dialled — the address checked is the address used, so DNS cannot rebind in between.
 */
export async function resolveEgressTarget(
  host: string,
  lookup: (host: string) => Promise<string[]>,
): Promise<{ address: string } | { denied: "forbidden-address" | "unresolvable" }> {
  const h = normalizeHost(host);
  if (isIP(h)) {
    const ip = unmap(h);
    return FORBIDDEN.check(ip, ipFamily(ip)) ? { denied: "forbidden-address" } : { address: ip };
  }
  let addresses: string[];
  try {
    addresses = (await lookup(h)).map(unmap);
  } catch {
    return { denied: "unresolvable" };
  }
  if (addresses.length === 0) return { denied: "unresolvable" };
  const ok = addresses.filter(
    (ip) => !FORBIDDEN.check(ip, ipFamily(ip)) && (isLocalhostName(h) || !LOOPBACK.check(ip, ipFamily(ip))),
  );
  return ok[0] ? { address: ok[0] } : { denied: "forbidden-address" };
}

/** Splits a CONNECT authority / Host value into host and port. */
function splitAuthority(authority: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(authority) ?? /^([^:[\]\s]+)(?::(\d+))?$/.exec(authority);
  if (!m) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: normalizeHost(m[1]!), port };
}

/**
 * An allowlisting HTTP proxy on a unix socket: `CONNECT host:port` (any TLS or other TCP stream) and plain-HTTP
 * absolute-URI requests (`GET http://host:port/…`) to allowlisted targets only; everything else gets 403 and is
 * counted (`denied`, `onDenied`). Runs in the runner's process; the sandbox reaches it through the init's bridge.
 */
export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const rules = options.allow.map(parseEgressRule);
  const lookup =
    options.lookup ?? (async (host: string) => (await dnsLookup(host, { all: true })).map((a) => a.address));
  const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
  const denied: EgressDenial[] = [];
  let deniedCount = 0;
  const sockets = new Set<Duplex>();

  const deny = (host: string, port: number, reason: EgressDenial["reason"]) => {
    const d: EgressDenial = { host, port, reason, at: Date.now() };
    deniedCount++;
    denied.push(d);
    if (denied.length > MAX_KEPT_DENIALS) denied.shift();
    try {
      options.onDenied?.(d);
    } catch {}
  };
  const refusal = (host: string, port: number, reason: EgressDenial["reason"]) =>
    `forgehand sandbox: egress to ${host}:${port} refused (${reason}); allow it with sandbox.network.allow\n`;

  /** Admits `host:port` or records the refusal; the address to dial when admitted. */
  const admit = async (
    host: string,
    port: number,
  ): Promise<{ address: string } | { reason: EgressDenial["reason"] }> => {
    if (!isEgressAllowed(rules, host, port)) {
      deny(host, port, "not-allowed");
      return { reason: "not-allowed" };
    }
    const target = await resolveEgressTarget(host, lookup);
    if ("denied" in target) {
      deny(host, port, target.denied);
      return { reason: target.denied };
    }
    return target;
  };

  const dial = (address: string, port: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect({ host: address, port });
      const timer = setTimeout(() => s.destroy(new Error("connect timeout")), connectTimeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });

  const server = createServer();
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });

  server.on("connect", async (req: IncomingMessage, client: Duplex, head: Buffer) => {
    client.on("error", () => client.destroy());
    const target = splitAuthority(req.url ?? "", 443);
    if (!target) {
      deny(req.url ?? "", 0, "bad-request");
      client.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      return;
    }
    const verdict = await admit(target.host, target.port);
    if ("reason" in verdict) {
      const body = refusal(target.host, target.port, verdict.reason);
      client.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    let upstream: Socket;
    try {
      upstream = await dial(verdict.address, target.port);
    } catch (error) {
      client.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n${(error as Error).message}\n`);
      return;
    }
    sockets.add(upstream);
    upstream.once("close", () => sockets.delete(upstream));
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    upstream.pipe(client);
    client.pipe(upstream);
  });

  server.on("request", async (req: IncomingMessage, res: ServerResponse) => {
    let url: URL | undefined;
    try {
      url = new URL(req.url ?? "");
    } catch {}
    if (url?.protocol !== "http:") {
      deny(url?.host ?? req.headers.host ?? "", 0, "bad-request");
      res.writeHead(400, { "content-type": "text/plain", connection: "close" });
      res.end("forgehand sandbox proxy: only CONNECT and absolute http:// requests are proxied\n");
      return;
    }
    const port = url.port ? Number(url.port) : 80;
    const host = normalizeHost(url.hostname);
    const verdict = await admit(host, port);
    if ("reason" in verdict) {
      res.writeHead(403, { "content-type": "text/plain", connection: "close" });
      res.end(refusal(host, port, verdict.reason));
      return;
    }
    const headers = { ...req.headers };
    for (const name of Object.keys(headers)) if (name.startsWith("proxy-")) delete headers[name];
    const upstream = httpRequest(
      {
        host: verdict.address,
        port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, host: url.host },
        setHost: false,
        timeout: connectTimeoutMs,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("timeout", () => upstream.destroy(new Error("upstream timeout")));
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain", connection: "close" });
      res.end(`${error.message}\n`);
    });
    req.pipe(upstream);
  });

  await rm(options.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  if (options.socketOwner) await chown(options.socketPath, options.socketOwner.uid, options.socketOwner.gid);
  await chmod(options.socketPath, 0o600);

  return {
    socketPath: options.socketPath,
    rules,
    get denied() {
      return denied;
    },
    get deniedCount() {
      return deniedCount;
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await rm(options.socketPath, { force: true });
    },
  };
}
