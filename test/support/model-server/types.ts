/** Token counts the fake model reports; the CLI turns them into `total_cost_usd`. */
export interface TurnUsage {
  input_tokens: number;
  output_tokens: number;
}

/** One scripted answer of the fake model to one main-loop request. */
export type Turn =
  | { text: string; usage?: TurnUsage }
  | { toolUse: { name: string; input: Record<string, unknown> }; text?: string; usage?: TurnUsage }
  /** Holds the connection open without a single byte; then answers `then`, or drops the socket. */
  | { silentForMs: number; then?: Turn }
  /** An API error: 429 `rate_limit_error` (with `retry-after` seconds), 529 `overloaded_error`, 500, 400… */
  | { status: number; retryAfter?: number; message?: string };

/** The parts of a Messages API request body the scripts look at. */
export interface MessagesRequest {
  model?: string;
  max_tokens?: number;
  stream?: boolean;
  system?: string | Array<{ type: string; text?: string }>;
  tools?: Array<{ name: string }>;
  messages: Array<{ role: string; content: string | Array<Record<string, unknown>> }>;
  [key: string]: unknown;
}

/** What a script knows besides the request itself. */
export interface ScriptContext {
  /** The agent's working directory, read from the system prompt ("Primary working directory: …"). */
  cwd: string | undefined;
  /** 0-based count of main-loop requests this server has answered before this one (all sessions). */
  index: number;
  /** How many tool results the conversation already carries, i.e. tool turns completed in this session. */
  toolResults: number;
}

/** A test's model: called once per main-loop request (side requests never reach it). */
export type Script = (req: MessagesRequest, ctx: ScriptContext) => Turn | Promise<Turn>;

/** One request as the server saw it, in arrival order. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** `main`: the agent loop, answered by the script; `side`: title/summary etc., answered with plain text. */
  kind: "main" | "side" | "count_tokens" | "unknown";
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  at: number;
}
