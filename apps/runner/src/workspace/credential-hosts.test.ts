import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type RepoRef } from "@forgehand/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createWorkspaces } from "./workspaces";

/**
 * A git remote on a host the credentials are not for. Git sends credentials only after a 401 challenge, so
 * this one challenges every request and records whether any request then came with an Authorization header.
 */
const TOKEN = "ghs_forgeTokenForTheRealForgeOnly0042";
let dir: string;
let stranger: Server;
let strangerUrl: string;
let redirector: Server;
let redirectorUrl: string;
const seen: Array<{ path: string; auth: string }> = [];

function listen(handler: RequestListener): Promise<Server> {
  const srv = createServer(handler);
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve(srv)));
}
const urlOf = (srv: Server) => `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fh-credhost-"));
  stranger = await listen((req, res) => {
    seen.push({ path: req.url ?? "", auth: req.headers.authorization ?? "" });
    res.writeHead(401, { "WWW-Authenticate": 'Basic realm="stranger"' }).end("auth required");
  });
  strangerUrl = urlOf(stranger);
  // Stands in for the forge's own host answering with a redirect to somewhere else.
  redirector = await listen((req, res) => {
    res.writeHead(302, { Location: `${strangerUrl}${req.url ?? "/"}` }).end();
  });
  redirectorUrl = urlOf(redirector);
});

afterAll(async () => {
  await new Promise((r) => stranger.close(r));
  await new Promise((r) => redirector.close(r));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen.length = 0;
});

function setup(name: string, cloneUrl: string) {
  const logLines: string[] = [];
  const logger = createLogger({ level: "debug", format: "json", write: (l) => logLines.push(l) });
  const ws = createWorkspaces({
    rootDir: join(dir, name),
    logger,
    author: { name: "b", email: "b@x" },
    branchPrefix: "fh",
  });
  const repo: RepoRef = { forge: "github", fullName: "acme/widgets", owner: "acme", name: "widgets", cloneUrl };
  return { ws, repo, logLines };
}

describe("credentials go only to the forge's git hosts", () => {
  it("are not sent to a clone URL on another host, even when it answers 401", async () => {
    const { ws, repo, logLines } = setup("other-host", `${strangerUrl}/acme/widgets.git`);
    const credentials = { username: "x-access-token", password: TOKEN, hosts: ["https://github.com"] };
    const error = await ws.prepare({ repo, issue: 1, title: "t", credentials }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((r) => r.auth)).toEqual([]);
    expect(logLines.join("\n")).toMatch(/credentials withheld.*http:\/\/127\.0\.0\.1:\d+.*https:\/\/github\.com/);
    expect(logLines.join("\n")).not.toContain(TOKEN);
  });

  it("are not sent to where the forge's host redirects (redirects are not followed)", async () => {
    const { ws, repo } = setup("redirect", `${redirectorUrl}/acme/widgets.git`);
    const credentials = { username: "x-access-token", password: TOKEN, hosts: [redirectorUrl] };
    const error = await ws.prepare({ repo, issue: 2, title: "t", credentials }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain(TOKEN);
    expect(seen.filter((r) => r.auth)).toEqual([]);
    expect(seen).toEqual([]);
  });
});
