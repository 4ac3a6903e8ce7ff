import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type EgressDenial,
  type EgressProxy,
  isEgressAllowed,
  parseEgressRule,
  resolveEgressTarget,
  startEgressProxy,
} from "./egress-proxy";

describe("egress rules", () => {
  it("parses host:port, [v6]:port and *.suffix; rejects the rest", () => {
    expect(parseEgressRule("API.Anthropic.com.:443")).toEqual({ host: "api.anthropic.com", port: 443 });
    expect(parseEgressRule("[::1]:8080")).toEqual({ host: "::1", port: 8080 });
    expect(parseEgressRule("*.npmjs.org:443")).toEqual({ host: "*.npmjs.org", port: 443 });
    for (const bad of ["example.com", "example.com:0", "example.com:70000", "a*.b.com:443", "*:443", "h: 1"]) {
      expect(() => parseEgressRule(bad), bad).toThrow();
    }
  });

  it("matches exact hosts and ports; a wildcard covers names below it, not the suffix itself", () => {
    const rules = ["api.anthropic.com:443", "*.npmjs.org:443", "127.0.0.1:8080"].map((r) => parseEgressRule(r));
    expect(isEgressAllowed(rules, "api.anthropic.com", 443)).toBe(true);
    expect(isEgressAllowed(rules, "api.anthropic.com", 80)).toBe(false);
    expect(isEgressAllowed(rules, "evil-api.anthropic.com", 443)).toBe(false);
    expect(isEgressAllowed(rules, "registry.npmjs.org", 443)).toBe(true);
    expect(isEgressAllowed(rules, "npmjs.org", 443)).toBe(false);
    expect(isEgressAllowed(rules, "evilnpmjs.org", 443)).toBe(false);
    expect(isEgressAllowed(rules, "127.0.0.1", 8080)).toBe(true);
    expect(isEgressAllowed(rules, "127.0.0.1", 6379)).toBe(false);
  });

  it("never dials link-local/metadata; loopback only by literal or `localhost`, never via a DNS answer", async () => {
    const dns = (answers: Record<string, string[]>) => async (h: string) => answers[h] ?? [];
    const lookup = dns({
      "metadata.evil": ["169.254.169.254"],
      "rebind.evil": ["127.0.0.1"],
      "mixed.example": ["::ffff:169.254.169.254", "93.184.216.34"],
      localhost: ["127.0.0.1"],
      "ok.example": ["93.184.216.34"],
    });
    expect(await resolveEgressTarget("metadata.evil", lookup)).toEqual({ denied: "forbidden-address" });
    expect(await resolveEgressTarget("rebind.evil", lookup)).toEqual({ denied: "forbidden-address" });
    expect(await resolveEgressTarget("mixed.example", lookup)).toEqual({ address: "93.184.216.34" });
    expect(await resolveEgressTarget("localhost", lookup)).toEqual({ address: "127.0.0.1" });
    expect(await resolveEgressTarget("127.0.0.1", lookup)).toEqual({ address: "127.0.0.1" });
    expect(await resolveEgressTarget("169.254.169.254", lookup)).toEqual({ denied: "forbidden-address" });
    expect(await resolveEgressTarget("[fe80::1]", lookup)).toEqual({ denied: "forbidden-address" });
    expect(await resolveEgressTarget("nowhere.example", lookup)).toEqual({ denied: "unresolvable" });
  });
});

/** Sends raw bytes to the unix socket, resolves with everything received until the peer closes (or `until`). */
function raw(socketPath: string, data: string, until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    let got = "";
    s.on("data", (d) => {
      got += d;
      if (until?.test(got)) {
        s.destroy();
        resolve(got);
      }
    });
    s.on("error", reject);
    s.on("close", () => resolve(got));
    s.write(data);
  });
}

describe("startEgressProxy", () => {
  const dir = mkdtempSync(join(tmpdir(), "fh-egress-"));
  let allowed: Server;
  let other: Server;
  let allowedPort: number;
  let otherPort: number;
  let proxy: EgressProxy | undefined;
  const denials: EgressDenial[] = [];

  beforeAll(async () => {
    const serve = async (body: string) => {
      const s = createServer((req, res) => res.end(`${body} ${req.method} ${req.url} host=${req.headers.host}`));
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
      return s;
    };
    allowed = await serve("allowed-server");
    other = await serve("other-server");
    allowedPort = (allowed.address() as AddressInfo).port;
    otherPort = (other.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    denials.length = 0;
  });
  afterAll(() => {
    allowed.close();
    other.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async () => {
    proxy = await startEgressProxy({
      socketPath: join(dir, "proxy.sock"),
      allow: [`127.0.0.1:${allowedPort}`],
      onDenied: (d) => denials.push(d),
    });
    return proxy;
  };

  it("CONNECT to an allowlisted host:port opens a tunnel", async () => {
    const p = await start();
    const got = await raw(
      p.socketPath,
      `CONNECT 127.0.0.1:${allowedPort} HTTP/1.1\r\nHost: 127.0.0.1:${allowedPort}\r\n\r\n` +
        `GET /via-tunnel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(got).toMatch(/^HTTP\/1\.1 200 Connection Established/);
    expect(got).toContain("allowed-server GET /via-tunnel");
    expect(p.deniedCount).toBe(0);
  });

  it("CONNECT anywhere else gets 403 and is counted with its host:port", async () => {
    const p = await start();
    const got = await raw(p.socketPath, `CONNECT 127.0.0.1:${otherPort} HTTP/1.1\r\n\r\n`);
    expect(got).toMatch(/^HTTP\/1\.1 403/);
    expect(got).not.toContain("other-server");
    const got2 = await raw(p.socketPath, "CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n");
    expect(got2).toMatch(/^HTTP\/1\.1 403/);
    expect(p.deniedCount).toBe(2);
    expect(denials.map((d) => `${d.host}:${d.port} ${d.reason}`)).toEqual([
      `127.0.0.1:${otherPort} not-allowed`,
      "169.254.169.254:80 not-allowed",
    ]);
  });

  it("plain-HTTP absolute-URI requests: allowed ones are forwarded, the rest refused", async () => {
    const p = await start();
    const get = (url: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ socketPath: p.socketPath, path: url, headers: { "proxy-authorization": "x" } }, (res) => {
          let body = "";
          res.on("data", (d) => {
            body += d;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end();
      });
    const ok = await get(`http://127.0.0.1:${allowedPort}/plain?q=1`);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(`allowed-server GET /plain?q=1 host=127.0.0.1:${allowedPort}`);
    const no = await get(`http://127.0.0.1:${otherPort}/`);
    expect(no.status).toBe(403);
    expect(no.body).toContain(`127.0.0.1:${otherPort}`);
    const origin = await get("/not-absolute");
    expect(origin.status).toBe(400);
    expect(p.deniedCount).toBe(2);
  });

  it("the socket is replaced if stale, and removed on close", async () => {
    const p = await start();
    await p.close();
    proxy = undefined;
    await expect(raw(join(dir, "proxy.sock"), "x")).rejects.toThrow(/ENOENT/);
  });
});
