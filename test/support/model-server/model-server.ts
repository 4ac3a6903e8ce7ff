import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { countToolResults, isMainLoopRequest, workingDirectoryOf } from "./request-info";
import type { MessagesRequest, RecordedRequest, Script, Turn } from "./types";
import { writeApiError, writeJsonMessage, writeSseMessage } from "./write-turn";

/** Options for {@link startModelServer}. */
export interface ModelServerOptions {
  /** The fake model's behaviour for main-loop requests. */
  script: Script;
  /** Port to listen on; @defaultValue 0 (a free one) */
  port?: number;
}

/** A running scripted Anthropic Messages API server. */
export interface ModelServer {
  /** Base URL for `ANTHROPIC_BASE_URL`, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Every request received, in order (including unknown paths). */
  requests: RecordedRequest[];
  /** Replaces the script for the requests that follow. */
  setScript(script: Script): void;
  /** Main-loop requests only. */
  mainRequests(): RecordedRequest[];
  /** Stops listening and drops every open connection (silent turns included). */
  close(): Promise<void>;
}

const SIDE_ANSWER = "forgehand test";

/** Starts a node:http server that speaks enough of the Anthropic Messages API to drive the real Claude Code CLI. */
export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  let script = options.script;
  let mainIndex = 0;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      kind: "unknown",
      headers: req.headers,
      body: parseJson(raw),
      at: Date.now(),
    };
    requests.push(record);

    if (req.method === "POST" && path === "/v1/messages/count_tokens") {
      record.kind = "count_tokens";
      return json(res, 200, { input_tokens: Math.max(1, Math.ceil(raw.length / 4)) });
    }
    if (req.method === "POST" && path === "/v1/messages") {
      const body = record.body as MessagesRequest | undefined;
      if (!body || !Array.isArray(body.messages)) {
        return writeApiError(res, {
          status: 400,
          message: `[model-server] expected a Messages body, got ${raw.slice(0, 80)}`,
        });
      }
      const model = body.model ?? "claude-test";
      if (!isMainLoopRequest(body)) {
        record.kind = "side";
        return answer(res, body, { text: SIDE_ANSWER }, model);
      }
      record.kind = "main";
      const ctx = { cwd: workingDirectoryOf(body), index: mainIndex++, toolResults: countToolResults(body) };
      const turn = await script(body, ctx);
      return answer(res, body, turn, model);
    }
    // HEAD / (connectivity probe) and anything else the CLI may call: a harmless empty answer.
    return json(res, 200, {});
  }

  function answer(res: ServerResponse, body: MessagesRequest, turn: Turn, model: string): void {
    if ("silentForMs" in turn) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (turn.then) answer(res, body, turn.then, model);
        else res.socket?.destroy();
      }, turn.silentForMs);
      timers.add(timer);
      return;
    }
    if ("status" in turn) writeApiError(res, turn);
    else if (body.stream) writeSseMessage(res, turn, model);
    else writeJsonMessage(res, turn, model);
  }

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      handle(req, res, Buffer.concat(parts).toString("utf8")).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { type: "error", error: { type: "api_error", message: String(error) } });
        else res.destroy();
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error(`[model-server] unexpected address ${String(address)}`);

  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    setScript(next) {
      script = next;
    },
    mainRequests: () => requests.filter((r) => r.kind === "main"),
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function parseJson(raw: string): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
