import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** One request as autocannon builds it. */
export interface CannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** The part of autocannon's result the bench reads. */
export interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  "2xx": number;
}

interface CannonOptions {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
  method?: string;
  requests?: { method?: string; path?: string; setupRequest?: (req: CannonRequest) => CannonRequest }[];
}

const autocannon = require("autocannon") as (
  opts: CannonOptions,
  cb: (err: Error | null, res: CannonResult) => void,
) => {
  stop(): void;
};

/** Runs autocannon (installed, untyped) against `url`; `next()` builds each request (fresh id and signature). */
export function loadTest(options: {
  url: string;
  connections: number;
  durationS: number;
  next: () => { headers: Record<string, string>; body: string };
}): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationS,
        pipelining: 1,
        method: "POST",
        requests: [{ method: "POST", setupRequest: (req) => ({ ...req, method: "POST", ...options.next() }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}
