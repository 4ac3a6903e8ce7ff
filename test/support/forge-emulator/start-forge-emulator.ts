import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  addRepo,
  createState,
  type EmulatedRepo,
  type EmulatedRole,
  type EmulatorState,
  nextId,
  nowIso,
} from "./emulator-state";
import { type GiteaEmulation, giteaRoutes } from "./gitea-routes";
import { type EmulatedApp, githubRoutes } from "./github-routes";
import { createRouter, type RouteContext } from "./router";
import { gitHttpPath, serveGitHttp } from "./serve-git-http";
import { createWebhookSender, type EmulatedDelivery, type WebhookTarget } from "./webhook-sender";

// GitHub REST paths whose POST creates content (comments, issues, pull requests, reviews).
const CREATES = [
  /^\/repos\/[^/]+\/[^/]+\/issues$/,
  /^\/repos\/[^/]+\/[^/]+\/issues\/[^/]+\/comments$/,
  /^\/repos\/[^/]+\/[^/]+\/pulls$/,
  /^\/repos\/[^/]+\/[^/]+\/pulls\/[^/]+\/(reviews|comments)$/,
];

export interface ForgeEmulatorOptions {
  flavour: "github" | "gitea" | "forgejo";
  /** token → login. @defaultValue `{ "test-token": "forgehand-bot" }` */
  tokens?: Record<string, string>;
  /** GitHub App whose JWTs are accepted (GitHub flavour). */
  app?: EmulatedApp;
  /** Gitea version switches. */
  gitea?: GiteaEmulation;
  /** Where signed deliveries go when the API changes labels, comments or PRs. */
  webhooks?: WebhookTarget;
  /**
   * Bare repositories served over git smart HTTP at their clone URL `<url>/<fullName>.git`, behind HTTP
   * basic auth with a valid token as the password, as the real forges do.
   */
  gitRepos?: Record<string, string>;
  /**
   * GitHub's documented secondary limits, enforced per installation / token: a content-creating request beyond
   * `createsPerMinute` in any 60 s (or `createsPerHour` in any hour) is answered 403 "secondary rate limit" with
   * Retry-After, as GitHub does. Off by default.
   */
  secondaryLimits?: { createsPerMinute: number; createsPerHour: number };
}

/** A request the emulator answered. */
export interface RecordedCall {
  method: string;
  /** Path inside the API, e.g. `/repos/o/r/issues/1/comments`. */
  path: string;
  query: string;
  body: unknown;
  status: number;
  login?: string;
  /** When the request arrived (Date.now()). */
  at: number;
  /** Who wrote: `installation:<id>` for an App installation token, else `token:<login>`. */
  scope?: string;
}

interface Failure {
  matcher: string | RegExp;
  status: number;
  retryAfter?: number;
  message?: string;
  headers?: Record<string, string>;
  times: number;
}

export interface ForgeEmulator {
  /** Web origin (also the GitHub API base). */
  url: string;
  /** What a client takes as its API URL: the origin for GitHub, `${url}/api/v1` for Gitea. */
  apiUrl: string;
  state: EmulatorState;
  calls: RecordedCall[];
  deliveries: EmulatedDelivery[];
  addRepo(fullName: string, opts?: { defaultBranch?: string; private?: boolean; labels?: string[] }): EmulatedRepo;
  addIssue(
    fullName: string,
    issue: { number?: number; title?: string; body?: string; isPr?: boolean; labels?: string[]; author?: string },
  ): number;
  setPermission(fullName: string, login: string, role: EmulatedRole): void;
  /**
   * Opens a pull request without a delivery (PRs and issues share numbers). `headRepo`: the fork's
   * `owner/name`; its head is then read from `refs/pull/N/head` of this repository's bare origin, which the
   * test writes (as the forge does when a fork PR is opened).
   */
  addPull(
    fullName: string,
    pr: {
      head: string;
      base?: string;
      title?: string;
      body?: string;
      headRepo?: string;
      author?: string;
      /** The diff the API answers; absent: `git diff base...head` of the bare repository. */
      diff?: string;
    },
  ): number;
  /** An inline review comment on PR `number`, in a new review of its own unless `review` (an id) is given. */
  addReviewComment(
    fullName: string,
    number: number,
    c: { author: string; path: string; body: string; line?: number; review?: number },
  ): { id: number; review: number };
  /**
   * The next `times` (default 1) requests matching `route` get `status`. `route` is
   * `"METHOD /path"` where `*` matches within one segment, or a RegExp on that string.
   */
  failNext(
    route: string | RegExp,
    opts: { status: number; retryAfter?: number; message?: string; headers?: Record<string, string>; times?: number },
  ): void;
  /** Revokes every token (clients must fetch new ones). */
  expireTokens(): void;
  /** A user's comment: stored, then delivered as `issue_comment.created`. */
  commentAsUser(
    fullName: string,
    number: number,
    login: string,
    body: string,
  ): { commentId: number; delivery: EmulatedDelivery };
  /** Sends an arbitrary signed delivery to the webhook target. */
  deliver(event: string, payload: unknown, eventType?: string): EmulatedDelivery;
  /** Waits until every delivery sent so far was answered. */
  deliveriesSettled(): Promise<void>;
  close(): Promise<void>;
}

function globToRegExp(glob: string): RegExp {
  const src = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/ ]*");
  return new RegExp(`^${src}$`);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return { __invalidJson: text };
  }
}

/** Starts a local HTTP server speaking the GitHub REST or Gitea API subset forgehand uses. */
export async function startForgeEmulator(opts: ForgeEmulatorOptions): Promise<ForgeEmulator> {
  const isGithub = opts.flavour === "github";
  const state = createState();
  for (const [fullName, dir] of Object.entries(opts.gitRepos ?? {})) state.gitDirs.set(fullName, dir);
  for (const [token, login] of Object.entries(opts.tokens ?? { "test-token": "forgehand-bot" })) {
    state.tokens.set(token, { login });
    state.users.add(login);
  }
  const match = createRouter(isGithub ? githubRoutes(opts.app) : giteaRoutes(opts.gitea));
  const calls: RecordedCall[] = [];
  const failures: Failure[] = [];
  const sender = createWebhookSender(opts.flavour, opts.webhooks);
  const prefix = isGithub ? "" : "/api/v1";
  let base = "";

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, { ...(text ? { "content-type": "application/json; charset=utf-8" } : {}), ...headers });
    res.end(text);
  }

  // Accepted content-creating requests per scope (arrival times), for the secondary limits.
  const creates = new Map<string, number[]>();
  /** Seconds to wait when `call` would exceed a secondary limit, else undefined (and the create is counted). */
  function secondaryLimited(call: RecordedCall): number | undefined {
    const limits = opts.secondaryLimits;
    if (!limits || !isGithub || !call.scope || call.method !== "POST" || !CREATES.some((re) => re.test(call.path)))
      return undefined;
    const times = (creates.get(call.scope) ?? []).filter((t) => t > call.at - 3_600_000);
    creates.set(call.scope, times);
    const lastMinute = times.filter((t) => t > call.at - 60_000);
    if (lastMinute.length >= limits.createsPerMinute) return Math.ceil((lastMinute[0]! + 60_000 - call.at) / 1000);
    if (times.length >= limits.createsPerHour) return Math.ceil((times[0]! + 3_600_000 - call.at) / 1000);
    times.push(call.at);
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? "/", base);
    const method = req.method ?? "GET";
    const gitPath = gitHttpPath(u.pathname);
    const bare = gitPath && opts.gitRepos?.[gitPath.fullName];
    if (gitPath && bare) {
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
      const password = basic ? Buffer.from(basic, "base64").toString("utf8").split(":").slice(1).join(":") : "";
      const token = state.tokens.get(password);
      calls.push({
        method,
        path: u.pathname,
        query: u.search,
        body: undefined,
        status: 0,
        at: Date.now(),
        ...(token ? { login: token.login } : {}),
      });
      // Like both forges: a public repository is cloned and fetched without credentials; a push always needs them.
      const fetching = gitPath.rest === "/git-upload-pack" || u.searchParams.get("service") === "git-upload-pack";
      const anonymous = !basic && fetching && state.repos.get(gitPath.fullName)?.private === false;
      if (anonymous) return serveGitHttp(req, res, { bare, rest: gitPath.rest, query: u.search.slice(1), user: "" });
      if (!token || (token.expiresAt !== undefined && token.expiresAt <= Date.now())) {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="forge-emulator"' }).end("authentication required");
        return;
      }
      return serveGitHttp(req, res, { bare, rest: gitPath.rest, query: u.search.slice(1), user: token.login });
    }
    const body = await readBody(req);
    const path = u.pathname.startsWith(prefix) ? u.pathname.slice(prefix.length) || "/" : u.pathname;
    const call: RecordedCall = { method, path, query: u.search, body, status: 0, at: Date.now() };
    calls.push(call);
    const reply = (status: number, payload: unknown, headers?: Record<string, string>) => {
      call.status = status;
      send(res, status, payload, headers);
    };
    const key = `${method} ${path}`;
    const failure = failures.find((f) =>
      (typeof f.matcher === "string" ? globToRegExp(f.matcher) : f.matcher).test(key),
    );
    if (failure) {
      failure.times -= 1;
      if (failure.times <= 0) failures.splice(failures.indexOf(failure), 1);
      const headers: Record<string, string> = { ...failure.headers };
      if (failure.retryAfter !== undefined) headers["retry-after"] = String(failure.retryAfter);
      return reply(failure.status, { message: failure.message ?? `emulated failure ${failure.status}` }, headers);
    }
    if (!u.pathname.startsWith(prefix)) return reply(404, { message: "Not Found" });
    const found = match(method, path);
    if (!found) return reply(404, { message: "Not Found", documentation_url: "emulator: no such route" });
    const authz = req.headers.authorization ?? "";
    // Gitea accepts exactly lowercase `token` or any-case `bearer` (services/auth/oauth2.go).
    const m = isGithub
      ? /^(?:token|bearer) (.+)$/i.exec(authz)
      : /^(?:token|[Bb][Ee][Aa][Rr][Ee][Rr]) (.+)$/.exec(authz);
    const credential = m?.[1] ?? "";
    let login = "";
    if (found.route.auth === "token") {
      const t = state.tokens.get(credential);
      if (!t || (t.expiresAt !== undefined && t.expiresAt <= Date.now())) {
        return reply(401, { message: isGithub ? "Bad credentials" : "token is required" });
      }
      login = t.login;
      call.login = login;
      call.scope = t.installationId !== undefined ? `installation:${t.installationId}` : `token:${t.login}`;
      const limited = secondaryLimited(call);
      if (limited !== undefined)
        return reply(
          403,
          {
            message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
          },
          { "retry-after": String(limited) },
        );
    } else if (found.route.auth === "jwt" && !credential) {
      return reply(401, { message: "A JSON web token could not be decoded" });
    }
    const ctx: RouteContext = {
      method,
      path,
      params: found.params,
      query: u.searchParams,
      body,
      accept: req.headers.accept ?? "",
      login,
      credential,
      base,
      state,
      emit: (event, payload, eventType) => {
        sender.send(event, payload, isGithub ? undefined : eventType);
      },
    };
    try {
      const result = await found.route.handle(ctx);
      if (result.text !== undefined) {
        call.status = result.status;
        res.writeHead(result.status, { "content-type": "text/plain; charset=utf-8", ...result.headers });
        return res.end(result.text);
      }
      return reply(result.status, result.body, result.headers);
    } catch (error) {
      return reply(500, { message: error instanceof Error ? error.message : String(error) });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { message: String(error) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const repoOrThrow = (fullName: string) => {
    const repo = state.repos.get(fullName);
    if (!repo) throw new Error(`[forge-emulator] unknown repo "${fullName}"`);
    return repo;
  };

  return {
    url: base,
    apiUrl: `${base}${prefix}`,
    state,
    calls,
    deliveries: sender.deliveries,
    addRepo: (fullName, o) => addRepo(state, fullName, o),
    addIssue(fullName, issue) {
      const repo = repoOrThrow(fullName);
      const number = issue.number ?? Math.max(0, ...repo.issues.keys()) + 1;
      const author = issue.author ?? repo.owner;
      state.users.add(author);
      for (const l of issue.labels ?? [])
        if (!repo.labels.some((x) => x.name === l))
          repo.labels.push({ id: nextId(state), name: l, color: "ededed", description: "" });
      repo.issues.set(number, {
        number,
        title: issue.title ?? `Issue ${number}`,
        body: issue.body ?? "",
        state: "open",
        isPr: issue.isPr ?? false,
        labels: [...(issue.labels ?? [])],
        author,
        createdAt: nowIso(),
      });
      return number;
    },
    addPull(fullName, pr) {
      const repo = repoOrThrow(fullName);
      const number = Math.max(0, ...repo.issues.keys()) + 1;
      const author = pr.author ?? repo.owner;
      state.users.add(author);
      const title = pr.title ?? `PR ${number}`;
      repo.pulls.push({
        number,
        head: pr.head,
        base: pr.base ?? repo.defaultBranch,
        title,
        body: pr.body ?? "",
        state: "open",
        merged: false,
        author,
        ...(pr.headRepo ? { headRepo: pr.headRepo } : {}),
        ...(pr.diff !== undefined ? { diff: pr.diff } : {}),
      });
      repo.issues.set(number, {
        number,
        title,
        body: pr.body ?? "",
        state: "open",
        isPr: true,
        labels: [],
        author,
        createdAt: nowIso(),
      });
      return number;
    },
    addReviewComment(fullName, number, c) {
      const repo = repoOrThrow(fullName);
      if (!repo.pulls.some((p) => p.number === number))
        throw new Error(`[forge-emulator] no PR #${number} in ${fullName}`);
      state.users.add(c.author);
      const at = nowIso();
      let review = c.review;
      if (review === undefined) {
        review = nextId(state);
        repo.reviews.push({ id: review, pull: number, body: "", event: "COMMENT", author: c.author, submittedAt: at });
      }
      const id = nextId(state);
      const { author, path, body, line } = c;
      repo.reviewComments.push({
        id,
        pull: number,
        review,
        body,
        path,
        author,
        createdAt: at,
        ...(line ? { line } : {}),
      });
      return { id, review };
    },
    setPermission(fullName, login, role) {
      repoOrThrow(fullName).permissions.set(login, role);
      state.users.add(login);
    },
    failNext(route, o) {
      failures.push({
        matcher: route,
        status: o.status,
        retryAfter: o.retryAfter,
        message: o.message,
        headers: o.headers,
        times: o.times ?? 1,
      });
    },
    expireTokens() {
      for (const [token, t] of state.tokens) state.tokens.set(token, { ...t, expiresAt: 0 });
    },
    commentAsUser(fullName, number, login, body) {
      const repo = repoOrThrow(fullName);
      const match2 = createRouter(isGithub ? githubRoutes(opts.app) : giteaRoutes(opts.gitea));
      const found = match2("POST", `/repos/${fullName}/issues/${number}/comments`);
      if (!found) throw new Error("[forge-emulator] comment route missing");
      state.users.add(login);
      let delivery: EmulatedDelivery | undefined;
      const result = found.route.handle({
        method: "POST",
        path: "",
        params: found.params,
        query: new URLSearchParams(),
        body: { body },
        accept: "",
        login,
        credential: "",
        base,
        state,
        emit: (event, payload, eventType) => {
          delivery = sender.send(event, payload, isGithub ? undefined : eventType);
        },
      }) as { status: number; body: { id: number } };
      if (result.status !== 201 || !delivery)
        throw new Error(`[forge-emulator] could not comment on ${fullName}#${number}: ${result.status}`);
      void repo;
      return { commentId: result.body.id, delivery };
    },
    deliver: (event, payload, eventType) => sender.send(event, payload, eventType),
    deliveriesSettled: () => sender.settled(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
