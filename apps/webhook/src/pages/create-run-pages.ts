import { isTerminal, type Stage, verifyRunLink } from "@forgehand/core";
import { type LogEntry, type RunStore, stopRun } from "@forgehand/queue";
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Redis } from "ioredis";
import { escapeHtml } from "./escape-html";
import type { ForgeWebUrls } from "./forge-links";
import { newNonce, pageCsp, pageShell } from "./page-layout";
import { createPageSessions, SESSION_COOKIE, SESSION_TTL_S } from "./page-session";
import { renderLogEntry } from "./render-log-entry";
import { RUN_PAGE_SCRIPT, renderRunDetail } from "./run-detail-page";
import { matchesFilters, parseRunFilters, renderRunList } from "./run-list-page";
import { streamRunEvents } from "./stream-run-events";

export interface RunPagesOptions {
  store: RunStore;
  /** For the Stop button (`stopRun`: the persisted flag and the announcement the runners act on). */
  redis: Redis;
  prefix: string;
  /** Signs run links and sessions (`resolveLinkSecret`). */
  linkSecret: string;
  /** `FORGEHAND_API_TOKEN`: the login password; without it nobody can log in (signed links still open). */
  token?: string;
  /** The process's redactor, re-applied to everything rendered (the store already redacted at write). */
  redact?: (text: string) => string;
  /** The configured stages, to show a run's limits. */
  stages?: readonly Stage[];
  web?: ForgeWebUrls;
  /** How long one blocking read of a live log waits. @defaultValue 1000 */
  tailBlockMs?: number;
}

/** `/runs`, `/runs/:id` (+ `/events`, `/stop`), `/login`, `/logout`: the people-facing pages of the webhook app. */
export function createRunPages(o: RunPagesOptions): Hono {
  const redact = o.redact ?? ((text: string) => text);
  const sessions = o.token ? createPageSessions(o.linkSecret, o.token) : undefined;
  const app = new Hono();

  const operator = (c: Context) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    return sessions && cookie && sessions.valid(cookie) ? cookie : undefined;
  };
  const page = (
    c: Context,
    title: string,
    body: string,
    status: 200 | 400 | 403 | 404 | 503 = 200,
    script?: string,
  ) => {
    const nonce = newNonce();
    c.header("content-security-policy", pageCsp(nonce));
    c.header("x-content-type-options", "nosniff");
    // same-origin, not no-referrer: a link-holder's signature never leaves in a Referer, and same-origin POSTs keep
    // their Origin header (no-referrer makes the browser send `Origin: null`, which the CSRF check refuses).
    c.header("referrer-policy", "same-origin");
    c.header("cache-control", "no-store");
    return c.html(pageShell({ title, nonce, body, operator: !!operator(c), ...(script ? { script } : {}) }), status);
  };
  const denied = (c: Context, why: string) =>
    page(c, "Forbidden", `<h1>403</h1><p>${escapeHtml(why)}</p><p><a href="/login">Operator login</a></p>`, 403);
  /** A same-origin POST: browsers send Origin on every POST; a missing one (old clients, curl) is let through to the CSRF token. */
  const sameOrigin = (c: Context) => {
    const origin = c.req.header("origin");
    if (!origin) return true;
    try {
      return new URL(origin).host === c.req.header("host");
    } catch {
      return false; // "null" (a sandboxed frame, a redirect chain) or garbage
    }
  };
  /** Who may see one run: an operator, or anyone holding a valid signed link; the reason for a 403 otherwise. */
  const access = (c: Context, id: string): { ok: true; query: string } | { ok: false; why: string } => {
    const sig = c.req.query("sig");
    const exp = c.req.query("exp");
    if (operator(c))
      return { ok: true, query: sig && exp ? `exp=${encodeURIComponent(exp)}&sig=${encodeURIComponent(sig)}` : "" };
    if (sig === undefined && exp === undefined)
      return { ok: false, why: "This page needs a signed link or an operator login." };
    const check = verifyRunLink(id, sig, exp, o.linkSecret);
    if (check === "ok")
      return { ok: true, query: `exp=${encodeURIComponent(exp ?? "")}&sig=${encodeURIComponent(sig ?? "")}` };
    return { ok: false, why: check === "expired" ? "This run link has expired." : "This run link is not valid." };
  };

  app.get("/", (c) => c.redirect("/runs", 302));

  app.get("/login", (c) => {
    if (!sessions)
      return page(c, "Login", `<p class="notice">Operator login is disabled: set FORGEHAND_API_TOKEN.</p>`, 503);
    const next = safeNext(c.req.query("next"));
    return page(
      c,
      "Login",
      `<h1>Operator login</h1>${c.req.query("failed") ? `<p class="notice">Wrong token.</p>` : ""}<form method="post" action="/login"><input type="hidden" name="next" value="${escapeHtml(next)}"><label>API token <input type="password" name="token" autocomplete="current-password" autofocus></label> <button type="submit">Log in</button></form>`,
    );
  });

  app.post("/login", async (c) => {
    if (!sessions)
      return page(c, "Login", `<p class="notice">Operator login is disabled: set FORGEHAND_API_TOKEN.</p>`, 503);
    if (!sameOrigin(c)) return denied(c, "Cross-site login refused.");
    const form = await c.req.parseBody();
    const next = safeNext(typeof form.next === "string" ? form.next : undefined);
    if (typeof form.token !== "string" || !sessions.checkToken(form.token))
      return c.redirect(`/login?failed=1&next=${encodeURIComponent(next)}`, 303);
    setCookie(c, SESSION_COOKIE, sessions.issue(), {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      maxAge: SESSION_TTL_S,
      secure: new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https",
    });
    return c.redirect(next, 303);
  });

  app.post("/logout", (c) => {
    if (!sameOrigin(c)) return denied(c, "Cross-site logout refused.");
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/login", 303);
  });

  app.get("/runs", async (c) => {
    if (!operator(c))
      return c.redirect(`/login?next=${encodeURIComponent(c.req.path + new URL(c.req.url).search)}`, 303);
    const filters = parseRunFilters(c.req.query());
    if ("error" in filters) return page(c, "Runs", `<p class="notice">${escapeHtml(filters.error)}</p>`, 400);
    const runs = (await o.store.list({ limit: 1_000 })).filter((r) => matchesFilters(r, filters)).slice(0, 200);
    return page(c, "Runs", renderRunList(runs, filters, redact));
  });

  app.get("/runs/:id", async (c) => {
    const id = c.req.param("id");
    const allowed = access(c, id);
    if (!allowed.ok) return denied(c, allowed.why);
    const run = await o.store.get(id);
    if (!run) return page(c, "Not found", `<h1>No run ${escapeHtml(id)}</h1>`, 404);
    const entries = await readAll(o.store, id);
    const cookie = operator(c);
    const live = !isTerminal(run.state);
    const last = entries.at(-1)?.id;
    const eventsQuery = [allowed.query, last ? `after=${encodeURIComponent(last)}` : ""].filter(Boolean).join("&");
    const body = renderRunDetail({
      run,
      actions: entries.flatMap((e) => renderLogEntry(e, redact)),
      gate: entries.filter((e) => e.stream === "system" && e.line.startsWith("gate")).map((e) => e.line),
      ...resultOf(entries, redact),
      ...(live ? { eventsUrl: `/runs/${encodeURIComponent(id)}/events${eventsQuery ? `?${eventsQuery}` : ""}` } : {}),
      ...(cookie && sessions ? { csrf: sessions.csrfFor(cookie) } : {}),
      ...(o.stages?.find((s) => s.name === run.stage) ? { stage: o.stages.find((s) => s.name === run.stage) } : {}),
      web: o.web ?? {},
      redact,
    });
    return page(c, `${run.repo}#${run.issue} ${run.stage}`, body, 200, RUN_PAGE_SCRIPT);
  });

  app.get("/runs/:id/events", async (c) => {
    const id = c.req.param("id");
    const allowed = access(c, id);
    if (!allowed.ok) return c.text(allowed.why, 403);
    if (!(await o.store.get(id))) return c.text(`no run ${id}`, 404);
    const after = c.req.header("last-event-id") || c.req.query("after") || "0";
    return streamRunEvents(c, { store: o.store, id, after, redact, tailBlockMs: o.tailBlockMs ?? 1_000 });
  });

  app.post("/runs/:id/stop", async (c) => {
    const id = c.req.param("id");
    const cookie = operator(c);
    if (!cookie || !sessions) return denied(c, "Stopping a run needs an operator login.");
    const form = await c.req.parseBody();
    if (!sameOrigin(c) || !sessions.checkCsrf(cookie, typeof form.csrf === "string" ? form.csrf : undefined))
      return denied(c, "Cross-site request refused.");
    const result = await stopRun(o.redis, o.prefix, id, "operator");
    if (!result.found) return page(c, "Not found", `<h1>No run ${escapeHtml(id)}</h1>`, 404);
    return c.redirect(`/runs/${encodeURIComponent(id)}`, 303);
  });

  app.onError((error, c) =>
    page(c, "Unavailable", `<p class="notice">Run store unavailable: ${escapeHtml(redact(error.message))}</p>`, 503),
  );
  return app;
}

/** Only a local path back into the pages (no `//host`, no scheme): the login must not become an open redirect. */
function safeNext(next: string | undefined): string {
  return next && /^\/runs(\/|\?|$)/.test(next) && !next.includes("\\") ? next : "/runs";
}

async function readAll(store: RunStore, id: string): Promise<LogEntry[]> {
  const lines: LogEntry[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.readLog(id, { after, count: 1_000 });
    lines.push(...page);
    if (page.length < 1_000) return lines;
    after = page.at(-1)?.id;
  }
}

/** The agent's own final answer (its stream-json `result` event), the summary when the record has none. */
function resultOf(entries: LogEntry[], redact: (text: string) => string): { resultText?: string } {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
    if (e?.stream !== "stdout" || !e.line.startsWith("{") || !e.line.includes('"result"')) continue;
    try {
      const ev = JSON.parse(e.line) as { type?: unknown; result?: unknown };
      if (ev.type === "result" && typeof ev.result === "string") return { resultText: redact(ev.result) };
    } catch {
      // A cut or foreign line.
    }
  }
  return {};
}
