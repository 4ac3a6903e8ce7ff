/** Token counts the fake model reports in `response.completed`. */
export interface ResponseUsage {
  input_tokens: number;
  cached_tokens?: number;
  output_tokens: number;
}

/** One scripted answer of the fake model to one `POST /v1/responses`. */
export type Reply =
  /** A final assistant message (ends codex's turn). */
  | { text: string; reasoning?: string; usage?: ResponseUsage }
  /** A function call codex executes with its own tools (`exec_command`, `apply_patch`, …), then asks again. */
  | { call: { name: string; arguments: Record<string, unknown> | string }; reasoning?: string; usage?: ResponseUsage }
  /** A freeform (`custom`) tool call: codex 0.171.0 offers `apply_patch` this way, its input is the raw patch. */
  | { customCall: { name: string; input: string }; reasoning?: string; usage?: ResponseUsage }
  /** Holds the connection open without a byte for this long; then answers `then`, or drops the socket. */
  | { silentForMs: number; then?: Reply }
  /** An HTTP error answer: 429 (with `retry-after` seconds), 500, 503, 400… */
  | { status: number; retryAfter?: number; message?: string };

/** The parts of a Responses API request body the scripts look at. */
export interface ResponsesRequest {
  model?: string;
  stream?: boolean;
  instructions?: string;
  tools?: Array<{ type: string; name?: string }>;
  input: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/** What a script knows besides the request itself. */
export interface ReplyContext {
  /** 0-based count of `/v1/responses` requests answered before this one. */
  index: number;
  /** How many function-call outputs the conversation already carries (tool calls completed). */
  toolOutputs: number;
  /** The agent's working directory, from codex's `<environment_context><cwd>` input, if present. */
  cwd: string | undefined;
}

export type ReplyScript = (req: ResponsesRequest, ctx: ReplyContext) => Reply | Promise<Reply>;

/** One request as the server saw it, in arrival order. */
export interface RecordedResponsesRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  at: number;
}
