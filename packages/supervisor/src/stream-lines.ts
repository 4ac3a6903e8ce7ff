import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createLineSplitter } from "./line-splitter";

/** A readable stream consumed line by line. */
export interface LineStream {
  /** Resolves when the stream closed (every writer of the pipe is gone) or, after `boundMs`, destroys it. */
  finish(boundMs: number): Promise<void>;
}

/** Decodes UTF-8 (multi-byte characters split across chunks stay whole) and calls `onLine` per line. */
export function streamLines(stream: Readable | null | undefined, onLine: (line: string) => void): LineStream {
  if (!stream) return { finish: async () => {} };
  const decoder = new StringDecoder("utf8");
  const splitter = createLineSplitter(onLine);
  let flushed = false;
  const flush = () => {
    if (flushed) return;
    flushed = true;
    splitter.push(decoder.end());
    splitter.end();
  };
  const closed = new Promise<void>((resolve) => {
    stream.once("close", resolve);
    stream.once("error", resolve);
  });
  stream.on("data", (chunk: Buffer | string) => {
    if (!flushed) splitter.push(typeof chunk === "string" ? chunk : decoder.write(chunk));
  });
  stream.once("end", flush);
  return {
    async finish(boundMs) {
      // A leftover process outside the run's reach may still hold the pipe: don't wait on it forever.
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, boundMs);
      });
      await Promise.race([closed, bound]);
      clearTimeout(timer);
      flush();
      if (!stream.destroyed) stream.destroy();
    },
  };
}
