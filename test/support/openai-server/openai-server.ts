import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { RecordedResponsesRequest, Reply, ReplyScript, ResponsesRequest } from "./types";
import { writeApiError, writeReplyStream } from "./write-reply";

export interface OpenAiServerOptions {
  script: ReplyScript;
  /** @defaultValue 0 (a free port) */
  port?: number;
}

/** A running scripted OpenAI Responses API server. */
export interface OpenAiServer {
  /** Base URL for a codex custom provider's `base_url`, e.g. `http://127.0.0.1:41234/v1`. */
  url: string;
  /** Every request received, in order (including unknown paths). */
  requests: RecordedResponsesRequest[];
  setScript(script: ReplyScript): void;
  /** `POST /v1/responses` requests only. */
  responseRequests(): RecordedResponsesRequest[];
  close(): Promise<void>;
}

/** Starts a node:http server speaking enough of `POST /v1/responses` (SSE) to drive the real Codex CLI. */
export async function startOpenAiServer(options: OpenAiServerOptions): Promise<OpenAiServer> {
  let script = options.script;
  let index = 0;
  const requests: RecordedResponsesRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  async function answer(res: ServerResponse, reply: Reply, model: string): Promise<void> {
    if ("silentForMs" in reply) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, reply.silentForMs);
        timers.add(t);
      });
      if (res.destroyed) return;
      if (reply.then) return answer(res, reply.then, model);
      res.socket?.destroy();
      return;
    }
    if ("status" in reply) return writeApiError(res, reply);
    writeReplyStream(res, reply, model);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const body = parseJson(raw);
    requests.push({ method: req.method ?? "GET", path, headers: req.headers, body, at: Date.now() });
    if (req.method !== "POST" || path !== "/v1/responses") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `[openai-server] no route ${req.method} ${path}` } }));
      return;
    }
    const request = body as ResponsesRequest | undefined;
    if (!request || !Array.isArray(request.input)) {
      return writeApiError(res, {
        status: 400,
        message: `[openai-server] expected a Responses body, got ${raw.slice(0, 80)}`,
      });
    }
    const ctx = { index: index++, toolOutputs: countToolOutputs(request), cwd: cwdOf(request) };
    await answer(res, await script(request, ctx), request.model ?? "gpt-5.5");
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((error) => {
        if (!res.headersSent) writeApiError(res, { status: 500, message: `[openai-server] script threw: ${error}` });
        else res.destroy();
      });
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    setScript(next) {
      script = next;
    },
    responseRequests: () => requests.filter((r) => r.method === "POST" && r.path === "/v1/responses"),
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Function-call outputs codex sends back, i.e. tool calls it has completed in this conversation. */
export function countToolOutputs(req: ResponsesRequest): number {
  return req.input.filter((item) => item.type === "function_call_output" || item.type === "custom_tool_call_output")
    .length;
}

/** codex puts `<cwd>/path</cwd>` in an `<environment_context>` user message. */
export function cwdOf(req: ResponsesRequest): string | undefined {
  const text = JSON.stringify(req.input);
  const m = /<cwd>([^<]+)<\/cwd>/.exec(text);
  return m?.[1];
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
