import { type EmulatedRepo, type EmulatedRole, nextId, nowIso } from "./emulator-state";
import {
  gtComment,
  gtIssue,
  gtLabel,
  gtPull,
  gtReaction,
  gtRepo,
  gtReview,
  gtUser,
  type RepoCollaboratorPermission,
} from "./gitea-shapes";
import { headShaOf } from "./pull-heads";
import { giteaPullReadRoutes } from "./pull-read-routes";
import { addComment, addReaction, addReview, bodyField, createPull, pageOf, withRepo } from "./route-helpers";
import { fail, type Route, type RouteContext } from "./router";

/** Behaviour switches for version-dependent Gitea features. */
export interface GiteaEmulation {
  /** Accept label *names* in `POST …/issues/{n}/labels` (Gitea ≥ 1.22). @defaultValue true */
  labelNames?: boolean;
  /** `[api] MAX_RESPONSE_ITEMS`. @defaultValue 50 */
  maxItems?: number;
}

const REACTIONS = ["+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"];

/** Gitea has no `maintain`/`triage`; the emulator stores GitHub roles, Gitea reports access modes. */
function accessMode(role: EmulatedRole): string {
  if (role === "maintain") return "write";
  if (role === "triage") return "read";
  return role;
}

function isAdmin(repo: EmulatedRepo, login: string): boolean {
  const role = repo.permissions.get(login);
  return role === "admin" || role === "owner";
}

function labelEvent(ctx: RouteContext, repo: EmulatedRepo, n: number, action: "label_updated" | "label_cleared") {
  const issue = repo.issues.get(n);
  if (!issue) return;
  const envelope = { repository: gtRepo(ctx.base, repo), sender: gtUser(ctx.base, ctx.login) };
  if (issue.isPr) {
    const pr = repo.pulls.find((p) => p.number === n);
    ctx.emit(
      "pull_request",
      { action, number: n, pull_request: pr ? gtPull(ctx.base, repo, pr) : null, ...envelope },
      "pull_request_label",
    );
  } else ctx.emit("issues", { action, number: n, issue: gtIssue(ctx.base, repo, issue), ...envelope }, "issue_label");
}

/** The Gitea/Forgejo `/api/v1` subset forgehand uses (paths here are without the prefix). */
export function giteaRoutes(opts: GiteaEmulation = {}): Route[] {
  const maxItems = opts.maxItems ?? 50;
  return [
    ...giteaPullReadRoutes(maxItems),
    {
      method: "GET",
      pattern: "/user",
      auth: "token",
      // routers/api/v1/user/user.go GetAuthenticatedUser: the token's own account.
      handle: (ctx) => ({ status: 200, body: gtUser(ctx.base, ctx.login) }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const admin = isAdmin(repo, ctx.login);
        const role = repo.permissions.get(ctx.login) ?? "none";
        const push = admin || ["write", "maintain"].includes(role);
        return { status: 200, body: gtRepo(ctx.base, repo, { admin, push, pull: true }) };
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/collaborators/:user/permission",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const login = ctx.params.user as string;
        // routers/api/v1/repo/collaborators.go: only repo admins may query others' permissions.
        if (login !== ctx.login && !isAdmin(repo, ctx.login))
          return fail(
            403,
            "Only admins can query all permissions, repo admins can query all repo permissions, collaborators can query only their own",
          );
        if (!ctx.state.users.has(login)) return fail(404, "user does not exist");
        const mode = accessMode(repo.permissions.get(login) ?? "none");
        const body: RepoCollaboratorPermission = { permission: mode, role_name: mode, user: gtUser(ctx.base, login) };
        return { status: 200, body };
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/issues/:number",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const issue = repo.issues.get(Number(ctx.params.number));
        return issue ? { status: 200, body: gtIssue(ctx.base, repo, issue) } : fail(404, "issue does not exist");
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/issues/:number/comments",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const n = Number(ctx.params.number);
        const issue = repo.issues.get(n);
        if (!issue) return fail(404, "issue does not exist");
        const body = repo.comments.filter((c) => c.issue === n).map((c) => gtComment(ctx.base, repo, c, issue.isPr));
        return { status: 200, body };
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
        if (!issue) return fail(404, "issue does not exist");
        if (typeof body !== "string") return fail(422, "[Body]: Required");
        const c = addComment(ctx, repo, n, body);
        ctx.emit(
          "issue_comment",
          {
            action: "created",
            issue: gtIssue(ctx.base, repo, issue),
            comment: gtComment(ctx.base, repo, c, issue.isPr),
            repository: gtRepo(ctx.base, repo),
            sender: gtUser(ctx.base, ctx.login),
            is_pull: issue.isPr,
          },
          issue.isPr ? "pull_request_comment" : "issue_comment",
        );
        return { status: 201, body: gtComment(ctx.base, repo, c, issue.isPr) };
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/issues/comments/:id",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const c = repo.comments.find((x) => x.id === Number(ctx.params.id));
        if (!c) return fail(404, "comment does not exist");
        return { status: 200, body: gtComment(ctx.base, repo, c, repo.issues.get(c.issue)?.isPr ?? false) };
      }),
    },
    {
      method: "PATCH",
      pattern: "/repos/:owner/:repo/issues/comments/:id",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const c = repo.comments.find((x) => x.id === Number(ctx.params.id));
        const body = bodyField(ctx, "body");
        if (!c) return fail(404, "comment does not exist");
        if (c.author !== ctx.login && !isAdmin(repo, ctx.login)) return fail(403, "user should be the poster");
        if (typeof body !== "string") return fail(422, "[Body]: Required");
        c.body = body;
        c.updatedAt = nowIso();
        return { status: 200, body: gtComment(ctx.base, repo, c, repo.issues.get(c.issue)?.isPr ?? false) };
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/labels",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const { items } = pageOf(ctx, "limit", maxItems, repo.labels);
        return {
          status: 200,
          body: items.map((l) => gtLabel(ctx.base, repo, l)),
          headers: { "x-total-count": String(repo.labels.length) },
        };
      }),
    },
    {
      method: "POST",
      pattern: "/repos/:owner/:repo/labels",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const b = (ctx.body ?? {}) as { name?: unknown; color?: unknown };
        if (typeof b.name !== "string" || !b.name || typeof b.color !== "string")
          return fail(422, "[Name Color]: Required");
        if (repo.labels.some((l) => l.name === b.name)) return fail(409, "label already exists");
        const label = { id: nextId(ctx.state), name: b.name, color: b.color.replace(/^#/, ""), description: "" };
        repo.labels.push(label);
        return { status: 201, body: gtLabel(ctx.base, repo, label) };
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
        if (!issue) return fail(404, "issue does not exist");
        if (!Array.isArray(labels)) return fail(422, "[Labels]: Required");
        const kinds = new Set(labels.map((l) => typeof l));
        if (kinds.size > 1) return fail(400, "labels must be all IDs or all names");
        if (kinds.has("string") && opts.labelNames === false)
          return fail(422, "json: cannot unmarshal string into Go struct field IssueLabelsOption.labels of type int64");
        const before = issue.labels.length;
        for (const l of labels) {
          // Unknown names and ids are silently ignored, as Gitea does.
          const found = repo.labels.find((x) => (typeof l === "number" ? x.id === l : x.name === l));
          if (found && !issue.labels.includes(found.name)) issue.labels.push(found.name);
        }
        if (issue.labels.length !== before) labelEvent(ctx, repo, n, "label_updated");
        const body = issue.labels.map((name) => gtLabel(ctx.base, repo, repo.labels.find((x) => x.name === name)!));
        return { status: 200, body };
      }),
    },
    {
      method: "DELETE",
      pattern: "/repos/:owner/:repo/issues/:number/labels/:id",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const n = Number(ctx.params.number);
        const issue = repo.issues.get(n);
        if (!issue) return fail(404, "issue does not exist");
        const id = Number(ctx.params.id);
        const label = Number.isInteger(id) ? repo.labels.find((x) => x.id === id) : undefined;
        if (!label) return fail(422, `label does not exist [id: ${ctx.params.id}]`);
        if (issue.labels.includes(label.name)) {
          issue.labels = issue.labels.filter((x) => x !== label.name);
          labelEvent(ctx, repo, n, "label_updated");
        }
        return { status: 204 };
      }),
    },
    {
      method: "POST",
      pattern: "/repos/:owner/:repo/issues/comments/:id/reactions",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const commentId = Number(ctx.params.id);
        const content = bodyField(ctx, "content");
        if (!repo.comments.some((c) => c.id === commentId)) return fail(404, "comment does not exist");
        if (typeof content !== "string" || !REACTIONS.includes(content))
          return fail(403, `'${String(content)}' is not an allowed reaction`);
        return addReaction(ctx, repo, commentId, content, (r) => gtReaction(ctx.base, r));
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/pulls/:index",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const pr = repo.pulls.find((p) => p.number === Number(ctx.params.index));
        if (!pr) return fail(404, "pull request does not exist");
        return { status: 200, body: gtPull(ctx.base, repo, pr, headShaOf(ctx.state, repo, pr)) };
      }),
    },
    {
      method: "POST",
      pattern: "/repos/:owner/:repo/pulls/:index/reviews",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const pr = repo.pulls.find((p) => p.number === Number(ctx.params.index));
        const body = bodyField(ctx, "body");
        const event = bodyField(ctx, "event") ?? "PENDING";
        if (!pr) return fail(404, "pull request does not exist");
        // CreatePullReviewOptions.event (swagger enum); Gitea answers 422 for a comment review without a body.
        if (typeof event !== "string" || !["APPROVED", "PENDING", "COMMENT", "REQUEST_CHANGES"].includes(event))
          return fail(422, `unknown review event: ${String(event)}`);
        if (event === "COMMENT" && (typeof body !== "string" || !body.trim()))
          return fail(422, "review event COMMENT requires a body");
        const r = addReview(ctx, repo, pr.number, typeof body === "string" ? body : "", event);
        return { status: 200, body: gtReview(ctx.base, repo, r) };
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/pulls/:base/*head",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        // Like Gitea, this does not filter by state: the caller checks `state`.
        const head = (ctx.params.head as string).replace(/^[^:]*:/, "");
        const pr = [...repo.pulls].reverse().find((p) => p.base === ctx.params.base && p.head === head);
        return pr ? { status: 200, body: gtPull(ctx.base, repo, pr) } : fail(404, "pull request does not exist");
      }),
    },
    {
      method: "POST",
      pattern: "/repos/:owner/:repo/pulls",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const b = (ctx.body ?? {}) as { title?: string; head?: string; base?: string; body?: string };
        if (!b.title || !b.head || !b.base) return fail(422, "[Head Base Title]: Required");
        if (b.head === b.base)
          return fail(422, "Invalid PullRequest: There are no changes between the head and the base");
        const open = repo.pulls.find((p) => p.state === "open" && !p.merged && p.head === b.head && p.base === b.base);
        if (open)
          return fail(
            409,
            `pull request already exists for these targets [id: ${open.number}, issue_id: ${open.number}, head_repo_id: ${repo.id}, base_repo_id: ${repo.id}, head_branch: ${b.head}, base_branch: ${b.base}]`,
          );
        return createPull(
          ctx,
          repo,
          { title: b.title, head: b.head, base: b.base, body: b.body ?? "" },
          (pr) => gtPull(ctx.base, repo, pr),
          {
            repository: gtRepo(ctx.base, repo),
            sender: gtUser(ctx.base, ctx.login),
          },
        );
      }),
    },
  ];
}
