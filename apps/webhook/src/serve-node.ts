import { serve } from "@hono/node-server";
import type { Hono } from "hono";

/** A running Node HTTP server for the app. */
export interface NodeServer {
  port: number;
  /** The address actually bound, e.g. `0.0.0.0` or `127.0.0.1`. */
  address: string;
  close(): Promise<void>;
}

/**
 * Node's defaults let a client hold a socket for 60 s before its headers and 300 s before its body
 * are done; forge deliveries arrive in well under a second. The body itself has its own, shorter
 * timeout in the delivery handler (DEFAULT_BODY_TIMEOUT_MS).
 */
export const SERVER_TIMEOUTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 };

/** Serves the app with @hono/node-server; resolves once listening (port 0 picks a free one). */
export function serveNode(
  app: Hono,
  port: number,
  hostname = "0.0.0.0",
  timeouts: Partial<typeof SERVER_TIMEOUTS> = {},
): Promise<NodeServer> {
  const t = { ...SERVER_TIMEOUTS, ...timeouts };
  return new Promise((resolve, reject) => {
    const serverOptions = { headersTimeout: t.headersTimeoutMs, requestTimeout: t.requestTimeoutMs };
    const server = serve({ fetch: app.fetch, port, hostname, serverOptions }, (info) => {
      resolve({
        port: info.port,
        address: info.address,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            // Keep-alive sockets would hold close() open for minutes.
            if ("closeAllConnections" in server) server.closeAllConnections();
          }),
      });
    });
    if ("keepAliveTimeout" in server) server.keepAliveTimeout = t.keepAliveTimeoutMs;
    server.once("error", reject);
  });
}
