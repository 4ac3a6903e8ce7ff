import {
  type EmulatedComment,
  type EmulatedPull,
  type EmulatedReaction,
  type EmulatedRepo,
  type EmulatedReview,
  nextId,
  nowIso,
} from "./emulator-state";
import { fail, type RouteContext, type RouteResult } from "./router";

// State changes both emulated forges make the same way. The wire shapes, status codes and error
// texts stay in each forge's routes file: only what is identical across the two lives here.

export function repoOf(ctx: RouteContext): EmulatedRepo | RouteResult {
  const repo = ctx.state.repos.get(`${ctx.params.owner}/${ctx.params.repo}`);
  return repo ?? fail(404, "Not Found");
}

/** Wraps a handler that needs the repository (404 when it does not exist). */
export function withRepo(
  fn: (ctx: RouteContext, repo: EmulatedRepo) => RouteResult,
): (ctx: RouteContext) => RouteResult {
  return (ctx) => {
    const repo = repoOf(ctx);
    return "fullName" in repo ? fn(ctx, repo) : repo;
  };
}

/** One field of the JSON request body, unchecked: each route validates it in its forge's words. */
export function bodyField(ctx: RouteContext, name: string): unknown {
  return (ctx.body as Record<string, unknown> | undefined)?.[name];
}

/** The `page` query parameter and a page size capped at `max` (both forges fall back to 30 per page). */
export function pageOf<T>(ctx: RouteContext, sizeParam: string, max: number, all: T[]) {
  const size = Math.min(Number(ctx.query.get(sizeParam) ?? 30) || 30, max);
  const page = Math.max(Number(ctx.query.get("page") ?? 1) || 1, 1);
  return { page, size, items: all.slice((page - 1) * size, page * size) };
}

/** Appends a comment by the caller to issue `issue`. */
export function addComment(ctx: RouteContext, repo: EmulatedRepo, issue: number, body: string): EmulatedComment {
  // One clock read: two could straddle a millisecond, and the runner would read the comment as edited.
  const at = nowIso();
  const c = { id: nextId(ctx.state), issue, body, author: ctx.login, createdAt: at, updatedAt: at };
  repo.comments.push(c);
  return c;
}

/** Adds the caller's reaction once: a repeat answers 200 with the existing one, a new one 201. */
export function addReaction(
  ctx: RouteContext,
  repo: EmulatedRepo,
  commentId: number,
  content: string,
  shape: (r: EmulatedReaction) => unknown,
): RouteResult {
  const existing = repo.reactions.find(
    (r) => r.commentId === commentId && r.user === ctx.login && r.content === content,
  );
  if (existing) return { status: 200, body: shape(existing) };
  const r = { id: nextId(ctx.state), commentId, user: ctx.login, content };
  repo.reactions.push(r);
  return { status: 201, body: shape(r) };
}

/** Creates a PR (and its issue entry: PRs and issues share numbers) and emits `pull_request.opened`. */
export function createPull<T>(
  ctx: RouteContext,
  repo: EmulatedRepo,
  b: { title: string; head: string; base: string; body: string },
  shape: (pr: EmulatedPull) => T,
  envelope: { repository: unknown; sender: unknown },
): RouteResult {
  const number = Math.max(0, ...repo.issues.keys()) + 1;
  const pr = {
    number,
    head: b.head,
    base: b.base,
    title: b.title,
    body: b.body,
    state: "open" as const,
    merged: false,
  };
  repo.pulls.push(pr);
  repo.issues.set(number, {
    number,
    title: b.title,
    body: b.body,
    state: "open",
    isPr: true,
    labels: [],
    author: ctx.login,
    createdAt: nowIso(),
  });
  ctx.emit("pull_request", { action: "opened", number, pull_request: shape(pr), ...envelope }, "pull_request");
  return { status: 201, body: shape(pr) };
}

/** Stores a review by the caller on pull request `pull`. */
export function addReview(
  ctx: RouteContext,
  repo: EmulatedRepo,
  pull: number,
  body: string,
  event: string,
): EmulatedReview {
  const r = { id: nextId(ctx.state), pull, body, event, author: ctx.login, submittedAt: nowIso() };
  repo.reviews.push(r);
  return r;
}
