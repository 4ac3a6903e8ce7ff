import type { IncomingMessage } from "node:http";
import { BodyBudgetError, BodyTimeoutError, DEFAULT_BODY_TIMEOUT_MS, type ReadLimits } from "./body-budget";
import { BodyTooLargeError } from "./read-body";

/** The parts of a Node request body reader needs (an IncomingMessage, or a stream standing in for one). */
export type NodeBody = Pick<IncomingMessage, "headers" | "on" | "off" | "pause" | "readableEnded" | "readableDidRead">;

/** A Node request whose body nobody has started reading: only then can it be read directly. */
export function unreadNodeBody(env: unknown): NodeBody | undefined {
  const incoming = (env as { incoming?: NodeBody } | undefined)?.incoming;
  if (!incoming || typeof incoming.on !== "function" || typeof incoming.headers !== "object") return undefined;
  return incoming.readableDidRead || incoming.readableEnded ? undefined : incoming;
}

/**
 * Reads a body straight from Node's request stream, never holding more than `limit` bytes.
 * Under @hono/node-server this skips the web-stream layers (`Readable.toWeb` under a wrapping
 * `ReadableStream`) that `Request.body` adds, which cost about a tenth of a delivery's CPU.
 * Node's HTTP parser delivers exactly Content-Length bytes, so a declared length within the
 * limit is the size; a chunked body is counted as it arrives and abandoned past the limit
 * (@hono/node-server drains or closes what is left once the 413 is sent). Every chunk is counted
 * against the process-wide in-flight budget, and a body slower than `timeoutMs` is abandoned.
 */
export function readNodeBody(incoming: NodeBody, limit: number, opts: ReadLimits = {}): Promise<Buffer> {
  const declared = Number(incoming.headers["content-length"] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(new BodyTooLargeError(`[webhook] body of ${declared} bytes is over the ${limit}-byte limit`));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      stop();
      incoming.pause();
      reject(new BodyTimeoutError(`[webhook] the body did not arrive within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = () => {
      clearTimeout(timer);
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop();
        incoming.pause();
        reject(new BodyTooLargeError(`[webhook] body is over the ${limit}-byte limit (read ${size} bytes so far)`));
        return;
      }
      if (opts.reservation && !opts.reservation.take(chunk.length)) {
        stop();
        incoming.pause();
        reject(new BodyBudgetError("[webhook] too many request bytes in flight; retry shortly"));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    // A client that hangs up mid-body ends nothing: without this the read would wait forever.
    const onClose = () => {
      stop();
      reject(new Error("[webhook] the request closed before its body ended"));
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onError);
    incoming.on("close", onClose);
  });
}
