import { timingSafeEqual } from "node:crypto";
import { isTerminal } from "@forgehand/core";
import type { LogEntry, RunStore } from "@forgehand/queue";
import { Hono, type MiddlewareHandler } from "hono";
import { streamSSE } from "hono/streaming";

export interface RunsApiOptions {
  store: RunStore;
  /** `FORGEHAND_API_TOKEN`; without it the API answers 503 (never open by accident). */
  token?: string;
  /** How long one blocking read of a live log waits. @defaultValue 1000 */
  tailBlockMs?: number;
  /**
   * The process's redactor, applied to every record and log line served (JSON, text and SSE): a second
   * layer over the store's, for records and lines written by an older or misconfigured runner.
   */
  redact?: (text: string) => string;
}

/** A copy of a record with every string in it (and in its arrays) redacted. */
function redactRecord<T extends object>(record: T, redact: (text: string) => string): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record))
    out[k] =
      typeof v === "string" ? redact(v) : Array.isArray(v) ? v.map((x) => (typeof x === "string" ? redact(x) : x)) : v;
  return out as T;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function requireToken(token: string | undefined): MiddlewareHandler {
  return async function checkBearer(c, next) {
    if (!token) return c.json({ error: "the runs API is disabled: set FORGEHAND_API_TOKEN" }, 503);
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !sameToken(match[1]?.trim() ?? "", token)) {
      c.header("WWW-Authenticate", 'Bearer realm="forgehand"');
      return c.json({ error: "missing or wrong bearer token" }, 401);
    }
    await next();
  };
}

function logText(entries: LogEntry[]): string {
  return entries.map((e) => `${new Date(e.at).toISOString()} ${e.stream} ${e.line}\n`).join("");
}

/** Run records and logs: mount at `/api` (GET /runs, /runs/:id, /runs/:id/log). */
export function createRunsApi(deps: RunsApiOptions): Hono {
  const { store } = deps;
  const redact = deps.redact ?? ((text: string) => text);
  const shown = <T extends object>(record: T): T => (deps.redact ? redactRecord(record, redact) : record);
  const tailBlockMs = deps.tailBlockMs ?? 1_000;
  const app = new Hono();
  app.use("*", requireToken(deps.token));
  // The store is Redis: when it cannot answer, say so (503, retry later) rather than a bare 500.
  app.onError((error, c) => c.json({ error: `[api] run store unavailable: ${redact(error.message)}` }, 503));

  app.get("/runs", async (c) => {
    const raw = c.req.query("limit");
    const limit = raw === undefined ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1_000)
      return c.json({ error: `[api] Expected limit between 1 and 1000, got \`${raw}\`` }, 400);
    return c.json({ runs: (await store.list({ limit })).map(shown) });
  });

  app.get("/runs/:id", async (c) => {
    const run = await store.get(c.req.param("id"));
    return run ? c.json(shown(run)) : c.json({ error: `no run ${c.req.param("id")}` }, 404);
  });

  app.get("/runs/:id/log", async (c) => {
    const id = c.req.param("id");
    const run = await store.get(id);
    if (!run) return c.json({ error: `no run ${id}` }, 404);
    if (!(c.req.header("accept") ?? "").includes("text/event-stream")) {
      const lines: LogEntry[] = [];
      for (let after: string | undefined; ; ) {
        const page = await store.readLog(id, { after, count: 1_000 });
        lines.push(...page);
        if (page.length < 1_000) break;
        after = page.at(-1)?.id;
      }
      return c.text(redact(logText(lines)), 200, { "content-type": "text/plain; charset=utf-8" });
    }
    // Live tail: replay from Last-Event-ID (or the start), then block for new lines
    // until the run is terminal and nothing is left to send. One Redis connection per
    // stream, closed when the viewer leaves (which also ends a read in flight) or the run ends.
    return streamSSE(c, async (stream) => {
      let after = c.req.header("last-event-id") || "0";
      const tail = store.openTail(id);
      stream.onAbort(() => tail.close());
      try {
        while (!stream.aborted) {
          const entries = await tail.read(after, tailBlockMs);
          for (const e of entries) {
            await stream.writeSSE({ id: e.id, event: e.stream, data: redact(e.line) });
            after = e.id;
          }
          if (entries.length > 0 || stream.aborted) continue;
          const now = await store.get(id);
          if (!now || isTerminal(now.state)) {
            // Lines written just before the terminal state landed.
            for (const e of await store.readLog(id, { after: after === "0" ? undefined : after, count: 10_000 }))
              await stream.writeSSE({ id: e.id, event: e.stream, data: redact(e.line) });
            await stream.writeSSE({ event: "end", data: JSON.stringify({ state: now?.state ?? "unknown" }) });
            break;
          }
        }
      } finally {
        tail.close();
      }
    });
  });

  return app;
}
