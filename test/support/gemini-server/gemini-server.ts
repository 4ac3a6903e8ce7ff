import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { countFunctionResponses, geminiWorkingDirectory } from "./request-info";
import type { GeminiRecordedRequest, GeminiScript, GeminiTurn, GenerateContentRequest } from "./types";
import { writeGeminiError, writeGeminiJson, writeGeminiSse } from "./write-gemini-turn";

/** Options for {@link startGeminiServer}. */
export interface GeminiServerOptions {
  script: GeminiScript;
  /** Port to listen on; @defaultValue 0 (a free one) */
  port?: number;
}

/** A running scripted Gemini API (generativelanguage v1beta) server. */
export interface GeminiServer {
  /** Base URL for `GOOGLE_GEMINI_BASE_URL`, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Every request received, in order (including unknown paths). */
  requests: GeminiRecordedRequest[];
  setScript(script: GeminiScript): void;
  /** `generateContent` / `streamGenerateContent` requests only. */
  generateRequests(): GeminiRecordedRequest[];
  close(): Promise<void>;
}

const MODEL_PATH = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/;

/** Starts a node:http server speaking enough of the Gemini API to drive the real Gemini CLI offline. */
export async function startGeminiServer(options: GeminiServerOptions): Promise<GeminiServer> {
  let script = options.script;
  let index = 0;
  const requests: GeminiRecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
    const record: GeminiRecordedRequest = {
      method: req.method ?? "GET",
      path,
      query,
      kind: "unknown",
      headers: req.headers,
      body: parseJson(raw),
      at: Date.now(),
    };
    requests.push(record);
    const m = MODEL_PATH.exec(path);
    if (req.method !== "POST" || !m) {
      return json(res, 404, { error: { code: 404, message: `[gemini-server] no route ${path}`, status: "NOT_FOUND" } });
    }
    const model = decodeURIComponent(m[1]!);
    record.model = model;
    const body = record.body as GenerateContentRequest | undefined;
    if (!body || !Array.isArray(body.contents)) {
      return writeGeminiError(res, {
        status: 400,
        message: `[gemini-server] expected contents, got ${raw.slice(0, 80)}`,
      });
    }
    if (m[2] === "countTokens") {
      record.kind = "count_tokens";
      return json(res, 200, { totalTokens: Math.max(1, Math.ceil(raw.length / 4)) });
    }
    record.kind = "generate";
    const ctx = {
      model,
      cwd: geminiWorkingDirectory(body),
      index: index++,
      functionResponses: countFunctionResponses(body),
    };
    const turn = await script(body, ctx);
    answer(res, turn, model, m[2] === "streamGenerateContent");
  }

  function answer(res: ServerResponse, turn: GeminiTurn, model: string, stream: boolean): void {
    if ("silentForMs" in turn) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (turn.then) answer(res, turn.then, model, stream);
        else res.socket?.destroy();
      }, turn.silentForMs);
      timers.add(timer);
      return;
    }
    if ("status" in turn) writeGeminiError(res, turn);
    else if (stream) writeGeminiSse(res, turn, model);
    else writeGeminiJson(res, turn, model);
  }

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      handle(req, res, Buffer.concat(parts).toString("utf8")).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { error: { code: 500, message: String(error), status: "INTERNAL" } });
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
  if (!address || typeof address === "string") throw new Error(`[gemini-server] unexpected address ${String(address)}`);
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    setScript(next) {
      script = next;
    },
    generateRequests: () => requests.filter((r) => r.kind === "generate"),
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
