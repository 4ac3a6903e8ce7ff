import { serve } from "@hono/node-server";
import type { Hono } from "hono";

/** A running Node HTTP server for the app. */
export interface NodeServer {
  port: number;
  close(): Promise<void>;
}

/** Serves the app with @hono/node-server; resolves once listening (port 0 picks a free one). */
export function serveNode(app: Hono, port: number, hostname = "0.0.0.0"): Promise<NodeServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            // Keep-alive sockets would hold close() open for minutes.
            if ("closeAllConnections" in server) server.closeAllConnections();
          }),
      });
    });
    server.once("error", reject);
  });
}
