import type { Hono } from "hono";
import { createApp } from "./create-app";
import type { WebhookDeps } from "./webhook-deps";

/** Deps factory for serverless entry points: called once per warm instance. */
export type DepsFactory = () => Promise<WebhookDeps> | WebhookDeps;

/**
 * Builds the app once, on first use, and reuses it (and its Redis connection) for every later
 * request of the same instance. A failed build is retried on the next request, not cached.
 */
export function lazyApp(getDeps: DepsFactory): () => Promise<Hono> {
  let app: Promise<Hono> | undefined;
  return () => {
    app ??= Promise.resolve()
      .then(getDeps)
      .then(createApp)
      .catch((error) => {
        app = undefined;
        throw error;
      });
    return app;
  };
}

/** A Web-standard `fetch` handler (Bun, Deno, Workers-with-TCP, …). */
export function createFetchHandler(getDeps: DepsFactory): (req: Request) => Promise<Response> {
  const app = lazyApp(getDeps);
  return async (req) => (await app()).fetch(req);
}
