import { spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, dirname } from "node:path";

/** `/<owner>/<name>.git/<git smart-HTTP path>` → the repository's full name and the path inside it. */
export function gitHttpPath(pathname: string): { fullName: string; rest: string } | undefined {
  const m = /^\/([^/]+\/[^/]+)\.git(\/(?:info\/refs|git-upload-pack|git-receive-pack))$/.exec(pathname);
  return m?.[1] && m[2] ? { fullName: m[1], rest: m[2] } : undefined;
}

/**
 * Serves one bare repository over git's smart HTTP protocol through `git http-backend` (CGI), as the forge
 * does at its clone URL; `user` is the authenticated login (receive-pack needs one).
 */
export function serveGitHttp(
  req: IncomingMessage,
  res: ServerResponse,
  opts: { bare: string; rest: string; query: string; user: string },
): Promise<void> {
  const cgi = spawn("git", ["http-backend"], {
    env: {
      PATH: process.env.PATH,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_PROJECT_ROOT: dirname(opts.bare),
      GIT_HTTP_EXPORT_ALL: "1",
      REMOTE_USER: opts.user,
      REQUEST_METHOD: req.method,
      PATH_INFO: `/${basename(opts.bare)}${opts.rest}`,
      QUERY_STRING: opts.query,
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
      GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
    },
  });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  cgi.stdout.on("data", (chunk: Buffer) => {
    if (headersDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString().split("\r\n")) {
      const [k, ...v] = line.split(":");
      if (!k) continue;
      if (k.toLowerCase() === "status") status = Number.parseInt(v.join(":").trim(), 10);
      else res.setHeader(k, v.join(":").trim());
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  return new Promise((resolve) => {
    cgi.on("close", () => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
      resolve();
    });
    cgi.on("error", () => undefined);
  });
}
