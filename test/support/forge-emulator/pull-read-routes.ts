import { gtReview } from "./gitea-shapes";
import { diffOf } from "./pull-heads";
import { ghReviewComment, gtReviewComment } from "./review-comment-shapes";
import { pageOf, withRepo } from "./route-helpers";
import { fail, type Route, type RouteResult } from "./router";

// The PR reads behind `{{pr.diff}}` and `{{pr.reviewComments}}`. GitHub's diff is `GET …/pulls/{n}` with
// `accept: application/vnd.github.diff` (the JSON route in github-routes.ts answers it through `githubDiff`).

const GITHUB_DIFF = /application\/vnd\.github(?:\.v3)?\.diff/i;

/** The diff answer of `GET /repos/{o}/{r}/pulls/{n}` when `accept` asks for it, else undefined (JSON). */
export function githubDiff(accept: string, diff: () => string): RouteResult | undefined {
  if (!GITHUB_DIFF.test(accept)) return undefined;
  return { status: 200, text: diff(), headers: { "content-type": "application/vnd.github.diff; charset=utf-8" } };
}

/** `GET /repos/{o}/{r}/pulls/{n}/comments` (pulls/list-review-comments): `sort`, `direction`, pages with `link`. */
export function githubPullReadRoutes(): Route[] {
  return [
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/pulls/:number/comments",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const n = Number(ctx.params.number);
        if (!repo.pulls.some((p) => p.number === n)) return fail(404, "Not Found");
        const sort = ctx.query.get("sort");
        if (sort !== null && sort !== "created" && sort !== "updated") return fail(422, "Validation Failed");
        const all = repo.reviewComments.filter((c) => c.pull === n).sort((a, b) => a.id - b.id);
        // "direction: Ignored without `sort`" (GitHub's REST docs); the default order is oldest first.
        if (sort && ctx.query.get("direction") === "desc") all.reverse();
        const { page, size, items } = pageOf(ctx, "per_page", 100, all);
        const headers: Record<string, string> = {};
        if (page * size < all.length) {
          const q = new URLSearchParams(ctx.query);
          q.set("per_page", String(size));
          q.set("page", String(page + 1));
          headers.link = `<${ctx.base}/repos/${repo.fullName}/pulls/${n}/comments?${q}>; rel="next"`;
        }
        return { status: 200, body: items.map((c) => ghReviewComment(ctx.base, repo, c)), headers };
      }),
    },
  ];
}

/**
 * Gitea's `GET …/pulls/{index}.{diffType}` (text/plain), `GET …/pulls/{index}/reviews` (page/limit,
 * X-Total-Count) and `GET …/pulls/{index}/reviews/{id}/comments`. Listed before `…/pulls/:index`, which
 * would otherwise take `7.diff` as an index.
 */
export function giteaPullReadRoutes(maxItems: number): Route[] {
  return [
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/pulls/:index.:diffType",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const pr = repo.pulls.find((p) => p.number === Number(ctx.params.index));
        if (!pr) return fail(404, "pull request does not exist");
        if (ctx.params.diffType !== "diff") return fail(404, `emulator: no .${ctx.params.diffType} (only .diff)`);
        return { status: 200, text: diffOf(ctx.state, repo, pr) };
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/pulls/:index/reviews",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const n = Number(ctx.params.index);
        if (!repo.pulls.some((p) => p.number === n)) return fail(404, "pull request does not exist");
        const all = repo.reviews.filter((r) => r.pull === n);
        const { items } = pageOf(ctx, "limit", maxItems, all);
        return {
          status: 200,
          body: items.map((r) => gtReview(ctx.base, repo, r)),
          headers: { "x-total-count": String(all.length) },
        };
      }),
    },
    {
      method: "GET",
      pattern: "/repos/:owner/:repo/pulls/:index/reviews/:id/comments",
      auth: "token",
      handle: withRepo((ctx, repo) => {
        const n = Number(ctx.params.index);
        const review = repo.reviews.find((r) => r.pull === n && r.id === Number(ctx.params.id));
        if (!review) return fail(404, "pull review does not exist");
        const list = repo.reviewComments.filter((c) => c.review === review.id);
        return { status: 200, body: list.map((c) => gtReviewComment(ctx.base, repo, c)) };
      }),
    },
  ];
}
