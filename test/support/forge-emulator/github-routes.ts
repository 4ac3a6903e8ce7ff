import type { KeyObject } from "node:crypto";
import { randomBytes } from "node:crypto";
import { verifyAppJwt } from "./app-jwt";
import { type EmulatedIssue, type EmulatedRepo, type EmulatorState, ensureLabel, nowIso } from "./emulator-state";
import {
  type GhInstallationToken,
  type GhPermission,
  ghApp,
  ghComment,
  ghIssue,
  ghLabel,
  ghPublicUser,
  ghPull,
  ghReaction,
  ghRepo,
  ghReview,
  ghUser,
} from "./github-shapes";
import { diffOf, headShaOf } from "./pull-heads";
import { githubDiff, githubPullReadRoutes } from "./pull-read-routes";
import { addComment, addReaction, addReview, bodyField, createPull, pageOf, withRepo } from "./route-helpers";
import { fail, type Route, type RouteContext, type RouteResult } from "./router";

/** GitHub App settings the emulator checks JWTs against. */
export interface EmulatedApp {
  id: number;
  publicKey: KeyObject | string;
  slug?: string;
  installations?: number[];
  /** Lifetime of installation tokens. @defaultValue 1 h */
  tokenTtlMs?: number;
}

const REACTIONS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"];
const LEGACY: Record<string, string> = {
  admin: "admin",
  owner: "admin",
  maintain: "write",
  write: "write",
  triage: "read",
  read: "read",
  none: "none",
};

/** Checks the app JWT of an `auth: "jwt"` route: a 401 when it does not decode or is another app's. */
function appJwtError(ctx: RouteContext, app: EmulatedApp): RouteResult | undefined {
  const v = verifyAppJwt(ctx.credential, app.publicKey);
  if (!v.ok) return fail(401, `A JSON web token could not be decoded (${v.reason})`);
  if (String(v.claims.iss) !== String(app.id)) return fail(401, "Integration not found");
  return undefined;
}

function tooLong(body: string): RouteResult | undefined {
  if (body.length <= 65_536) return undefined;
  return fail(422, "Validation Failed", { errors: [{ message: "Body is too long (maximum is 65536 characters)" }] });
}

function labelsBody(ctx: RouteContext, repo: EmulatedRepo, issue: EmulatedIssue): RouteResult {
  return { status: 200, body: issue.labels.map((l) => ghLabel(ctx.base, repo, ensureLabel(ctx.state, repo, l))) };
}

function issueEvent(ctx: RouteContext, repo: EmulatedRepo, number: number, action: string, label: string) {
  const issue = repo.issues.get(number);
  if (!issue) return;
  const l = repo.labels.find((x) => x.name === label);
  const common = {
    repository: ghRepo(ctx.base, repo),
    sender: ghUser(ctx.base, ctx.login),
    label: l ? ghLabel(ctx.base, repo, l) : undefined,
  };
  if (issue.isPr) {
    const pr = repo.pulls.find((p) => p.number === number);
    ctx.emit("pull_request", {
      action,
      number,
      pull_request: pr ? ghPull(ctx.base, repo, pr) : ghIssue(ctx.base, repo, issue),
      ...common,
    });
  } else ctx.emit("issues", { action, issue: ghIssue(ctx.base, repo, issue), ...common });
}

/** The GitHub REST subset forgehand uses. */
export function githubRoutes(app?: EmulatedApp): Route[] {
  return [
    ...githubPullReadRoutes(),
    {
      method: "GET",
      pattern: "/app",
      auth: "jwt",
      handle(ctx) {
        if (!app) return fail(404, "Not Found");
        const denied = appJwtError(ctx, app);
        if (denied) return denied;
        return { status: 200, body: ghApp(ctx.base, { id: app.id, slug: app.slug ?? "forgehand" }) };
      },
    },
    {
      method: "GET",
      pattern: "/user",
      auth: "token",
      handle(ctx) {
        // GitHub refuses `/user` to installation tokens: an App learns its name from `GET /app`.
        if (ctx.state.tokens.get(ctx.credential)?.installationId !== undefined)
          return fail(403, "Resource not accessible by integration");
        return { status: 200, body: ghPublicUser(ctx.base, ctx.login) };
      },
    },
    {
      method: "POST",
      pattern: "/app/installations/:id/access_tokens",
      auth: "jwt",
      handle(ctx) {
        if (!app) return fail(404, "Not Found");
        const denied = appJwtError(ctx, app);
        if (denied) return denied;
        const id = Number(ctx.params.id);
        if (!(app.installations ?? [1]).includes(id)) return fail(404, "Not Found");
        const token = `ghs_${randomBytes(18).toString("hex")}`;
        const expiresAt = Date.now() + (app.tokenTtlMs ?? 3_600_000);
        ctx.state.tokens.set(token, { login: `${app.slug ?? "forgehand"}[bot]`, expiresAt, installationId: id });
        const body: GhInstallationToken = {
          token,
          expires_at: new Date(expiresAt).toISOString(),
          permissions: { issues: "write", pull_requests: "write", contents: "write", metadata: "read" },
          repository_selection: "all",
        };
        return { status: 201, body };
      },
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/installation",
      auth: "jwt",
      handle(ctx) {
        if (!app) return fail(404, "Not Found");
        const v = verifyAppJwt(ctx.credential, app.publicKey);
        if (!v.ok) return fail(401, `A JSON web token could not be decoded (${v.reason})`);
        return { status: 200, body: { id: (app.installations ?? [1])[0], app_id: app.id } };
      },
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo",
      auth: "token",
      handle: withRepo((ctx, repo) => ({ status: 200, body: ghRepo(ctx.base, repo) })),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/collaborators/:user/permission",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const login = ctx.params.user as string;
        if (!ctx.state.users.has(login)) return fail(404, `${login} is not a user`);
        const role = repo.permissions.get(login) ?? "none";
        const body: GhPermission = {
          permission: LEGACY[role] ?? "none",
          role_name: role === "owner" ? "admin" : role,
          user: { ...ghUser(ctx.base, login), permissions: undefined, role_name: role },
        };
        return { status: 200, body };
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/issues/:number",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const issue = repo.issues.get(Number(ctx.params.number));
        return issue ? { status: 200, body: ghIssue(ctx.base, repo, issue) } : fail(404, "Not Found");
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/issues/:number/comments",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const n = Number(ctx.params.number);
        if (!repo.issues.has(n)) return fail(404, "Not Found");
        const all = repo.comments.filter((c) => c.issue === n);
        const { page, size: perPage, items: slice } = pageOf(ctx, "per_page", 100, all);
        const headers: Record<string, string> = {};
        if (page * perPage < all.length) {
          const next = `${ctx.base}/repos/${repo.fullName}/issues/${n}/comments?per_page=${perPage}&page=${page + 1}`;
          headers.link = `<${next}>; rel="next"`;
        }
        return { status: 200, body: slice.map((c) => ghComment(ctx.base, repo, c)), headers };
      }),
    },
    {
      method: "POST",
      pattern: "/repos/:owner/:repo/issues/:number/comments",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const n = Number(ctx.params.number);
        const issue = repo.issues.get(n);
        const body = bodyField(ctx, "body");
        if (!issue) return fail(404, "Not Found");
        if (typeof body !== "string" || !body) return fail(422, "Validation Failed", { errors: [{ field: "body" }] });
        const long = tooLong(body);
        if (long) return long;
        const c = addComment(ctx, repo, n, body);
        ctx.emit("issue_comment", {
          action: "created",
          issue: ghIssue(ctx.base, repo, issue),
          comment: ghComment(ctx.base, repo, c),
          repository: ghRepo(ctx.base, repo),
          sender: ghUser(ctx.base, ctx.login),
        });
        return { status: 201, body: ghComment(ctx.base, repo, c) };
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/issues/comments/:id",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const c = repo.comments.find((x) => x.id === Number(ctx.params.id));
        if (!c) return fail(404, "Not Found");
        return { status: 200, body: ghComment(ctx.base, repo, c) };
      }),
    },
    {
      method: "PATCH",
      pattern: "/repos/:owner/:repo/issues/comments/:id",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const c = repo.comments.find((x) => x.id === Number(ctx.params.id));
        const body = bodyField(ctx, "body");
        if (!c) return fail(404, "Not Found");
        if (typeof body !== "string" || !body) return fail(422, "Validation Failed");
        const long = tooLong(body);
        if (long) return long;
        c.body = body;
        c.updatedAt = nowIso();
        return { status: 200, body: ghComment(ctx.base, repo, c) };
      }),
    },
    {
      method: "POST",
      pattern: "/repos/:owner/:repo/issues/:number/labels",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const n = Number(ctx.params.number);
        const issue = repo.issues.get(n);
        const labels = bodyField(ctx, "labels");
        if (!issue) return fail(404, "Not Found");
        if (!Array.isArray(labels) || labels.some((l) => typeof l !== "string"))
          return fail(422, "Invalid request.\n\nFor 'links/0/schema', nil is not an array.");
        for (const name of labels as string[]) {
          // GitHub creates unknown labels on the fly (colour ededed), github/docs#35718.
          ensureLabel(ctx.state, repo, name);
          if (!issue.labels.includes(name)) {
            issue.labels.push(name);
            issueEvent(ctx, repo, n, "labeled", name);
          }
        }
        return labelsBody(ctx, repo, issue);
      }),
    },
    {
      method: "DELETE",
      pattern: "/repos/:owner/:repo/issues/:number/labels/:name",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const n = Number(ctx.params.number);
        const issue = repo.issues.get(n);
        const name = ctx.params.name as string;
        if (!issue?.labels.includes(name)) return fail(404, "Label does not exist");
        issue.labels = issue.labels.filter((l) => l !== name);
        issueEvent(ctx, repo, n, "unlabeled", name);
        return labelsBody(ctx, repo, issue);
      }),
    },
    {
      method: "POST",
      pattern: "/repos/:owner/:repo/issues/comments/:id/reactions",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const commentId = Number(ctx.params.id);
        const content = bodyField(ctx, "content");
        if (!repo.comments.some((c) => c.id === commentId)) return fail(404, "Not Found");
        if (typeof content !== "string" || !REACTIONS.includes(content)) return fail(422, "Validation Failed");
        return addReaction(ctx, repo, commentId, content, (r) => ghReaction(ctx.base, r));
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/pulls",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const state = ctx.query.get("state") ?? "open";
        const head = ctx.query.get("head");
        const base = ctx.query.get("base");
        const list = repo.pulls.filter(
          (p) =>
            (state === "all" || p.state === state) &&
            (!head || `${repo.owner}:${p.head}` === head) &&
            (!base || p.base === base),
        );
        return { status: 200, body: list.map((p) => ghPull(ctx.base, repo, p)) };
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/pulls/:number",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const pr = repo.pulls.find((p) => p.number === Number(ctx.params.number));
        if (!pr) return fail(404, "Not Found");
        const diff = githubDiff(ctx.accept, () => diffOf(ctx.state, repo, pr));
        if (diff) return diff;
        return { status: 200, body: ghPull(ctx.base, repo, pr, headShaOf(ctx.state, repo, pr)) };
      }),
    },
    {
      method: "POST",
      pattern: "/repos/:owner/:repo/pulls/:number/reviews",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const pr = repo.pulls.find((p) => p.number === Number(ctx.params.number));
        const body = bodyField(ctx, "body");
        const event = bodyField(ctx, "event") ?? "PENDING";
        if (!pr) return fail(404, "Not Found");
        if (typeof event !== "string" || !["APPROVE", "REQUEST_CHANGES", "COMMENT", "PENDING"].includes(event))
          return fail(422, "Validation Failed", { errors: [{ field: "event" }] });
        // "Unprocessable Entity" without a body, for REQUEST_CHANGES and COMMENT (GitHub's REST docs).
        if (event !== "APPROVE" && event !== "PENDING" && (typeof body !== "string" || !body))
          return fail(422, "Unprocessable Entity", { errors: ["Review body is required"] });
        const long = tooLong(typeof body === "string" ? body : "");
        if (long) return long;
        const r = addReview(ctx, repo, pr.number, typeof body === "string" ? body : "", event);
        return { status: 200, body: ghReview(ctx.base, repo, r) };
      }),
    },
    {
      method: "POST",
      pattern: "/repos/:owner/:repo/pulls",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const b = (ctx.body ?? {}) as { title?: string; head?: string; base?: string; body?: string };
        if (!b.title || !b.head || !b.base) return fail(422, "Validation Failed");
        const head = b.head.includes(":") ? (b.head.split(":")[1] as string) : b.head;
        if (repo.pulls.some((p) => p.state === "open" && p.head === head && p.base === b.base))
          return fail(422, "Validation Failed", {
            errors: [
              {
                resource: "PullRequest",
                code: "custom",
                message: `A pull request already exists for ${repo.owner}:${head}.`,
              },
            ],
          });
        return createPull(
          ctx,
          repo,
          { title: b.title, head, base: b.base, body: b.body ?? "" },
          (pr) => ghPull(ctx.base, repo, pr),
          {
            repository: ghRepo(ctx.base, repo),
            sender: ghUser(ctx.base, ctx.login),
          },
        );
      }),
    },
  ];
}

export type { EmulatorState };
