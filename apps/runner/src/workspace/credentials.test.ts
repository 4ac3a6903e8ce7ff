import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type RepoRef } from "@forgehand/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveGitHttp } from "../../../../test/support/forge-emulator/serve-git-http";
import { createGitOrigin, type GitOrigin } from "./create-git-origin";
import { createWorkspaces } from "./workspaces";

const USER = "x-access-token";
const PASSWORD = "ghs_s3cretT0kenThatMustNeverLeak42";

let dir: string;
let origin: GitOrigin;
let server: Server;
let baseUrl: string;
const seenAuth: string[] = [];

/** Smart-HTTP git over `git http-backend` (CGI), behind HTTP basic auth, like a forge. */
function startGitHttpServer(projectRoot: string): Promise<Server> {
  const srv = createServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    seenAuth.push(auth ? "basic" : "none");
    if (auth !== `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="forge"' }).end("auth required");
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = /^\/([^/]+\.git)(\/.*)$/.exec(url.pathname);
    if (!path?.[1] || !path[2]) return void res.writeHead(404).end();
    void serveGitHttp(req, res, {
      bare: join(projectRoot, path[1]),
      rest: path[2],
      query: url.search.slice(1),
      user: USER,
    });
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve(srv)));
}

/** Every file under `root` whose bytes contain `needle`. */
async function filesContaining(root: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) hits.push(path);
  }
  return hits;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fh-cred-"));
  origin = await createGitOrigin(dir);
  server = await startGitHttpServer(dir);
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

function setup(name: string) {
  const logLines: string[] = [];
  const logger = createLogger({ level: "debug", format: "json", write: (l) => logLines.push(l) });
  const rootDir = join(dir, `data-${name}`);
  const ws = createWorkspaces({
    rootDir,
    logger,
    author: { name: "bot", email: "bot@x.test" },
    branchPrefix: "forgehand",
  });
  const repo: RepoRef = {
    forge: "github",
    fullName: "acme/widgets",
    owner: "acme",
    name: "widgets",
    cloneUrl: `${baseUrl}/origin.git`,
    defaultBranch: "main",
  };
  return { ws, repo, rootDir, logLines };
}

describe("credentials", () => {
  it("reach git through askpass over HTTP basic auth, and are written nowhere", async () => {
    const { ws, repo, rootDir, logLines } = setup("ok");
    const creds = { username: USER, password: PASSWORD, hosts: [baseUrl] };
    const w = await ws.prepare({ repo, issue: 1, title: "over http", credentials: creds });
    expect(seenAuth).toContain("basic");
    await writeFile(join(w.worktree, "http.txt"), "pushed over http\n");
    await ws.commitAll(w.worktree, "via http");
    await ws.push(w.worktree, w.branch, repo, creds);
    expect(await origin.git("show", `refs/heads/${w.branch}:http.txt`)).toBe("pushed over http");
    expect(await filesContaining(rootDir, PASSWORD)).toEqual([]);
    expect(await readFile(join(rootDir, "mirrors", "github", "acme", "widgets.git", "config"), "utf8")).not.toContain(
      PASSWORD,
    );
    expect(logLines.join("\n")).not.toContain(PASSWORD);
    expect(logLines.join("\n")).toContain("workspace prepared");
  });

  it("moves credentials embedded in the clone URL out of it", async () => {
    const { ws, repo, rootDir } = setup("embedded");
    const cloneUrl = `${baseUrl.replace("://", `://${USER}:${PASSWORD}@`)}/origin.git`;
    const w = await ws.prepare({ repo: { ...repo, cloneUrl }, issue: 2, title: "embedded", credentials: null });
    expect(w.branch).toBe("forgehand/2-embedded");
    expect(await filesContaining(rootDir, PASSWORD)).toEqual([]);
  });

  it("fails clearly without credentials or with wrong ones, never echoing the password", async () => {
    const { ws, repo } = setup("bad");
    await expect(ws.prepare({ repo, issue: 3, title: "no creds", credentials: null })).rejects.toThrow(
      /\[workspace\] `git fetch/,
    );
    const wrong = { username: USER, password: `${PASSWORD}-wrong`, hosts: [baseUrl] };
    const error = await ws.prepare({ repo, issue: 3, title: "wrong", credentials: wrong }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/\[workspace\]/);
    expect((error as Error).message).not.toContain(PASSWORD);
  });

  it("keeps the password out of errors for an unreachable URL, even when git echoes the URL", async () => {
    const { ws, repo, rootDir } = setup("unreachable");
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", () => r()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    for (const cloneUrl of [`http://127.0.0.1:${port}/x.git`, `http://${USER}:${PASSWORD}@127.0.0.1:${port}/x.git`]) {
      const error = await ws
        .prepare({
          repo: { ...repo, cloneUrl },
          issue: 4,
          title: "dead",
          credentials: { username: USER, password: PASSWORD, hosts: [`http://127.0.0.1:${port}`] },
        })
        .catch((e: Error) => e);
      expect((error as Error).message).toMatch(/\[workspace\] `git fetch .*127\.0\.0\.1/);
      expect((error as Error).message).not.toContain(PASSWORD);
    }
    expect(await filesContaining(rootDir, PASSWORD)).toEqual([]);
  });
});
