/** Token counts the fake model reports (`usageMetadata`); the CLI sums them into its `result` stats. */
export interface GeminiUsage {
  promptTokenCount: number;
  candidatesTokenCount: number;
  cachedContentTokenCount?: number;
}

/** One function call the fake model asks for (a Gemini CLI tool: `write_file`, `run_shell_command`, …). */
export interface FunctionCall {
  name: string;
  args: Record<string, unknown>;
}

/** One scripted answer of the fake model to one `generateContent` request. */
export type GeminiTurn =
  /** Text only: the model is done. `chunks` > 1 splits it over several SSE events (the CLI prints deltas). */
  | { text: string; chunks?: number; usage?: GeminiUsage }
  | { functionCalls: FunctionCall[]; text?: string; usage?: GeminiUsage }
  /** Holds the connection open without a single byte; then answers `then`, or drops the socket. */
  | { silentForMs: number; then?: GeminiTurn }
  /** An API error in Google's shape (429 RESOURCE_EXHAUSTED with Retry-After and RetryInfo, 503 UNAVAILABLE, 400…). */
  | { status: number; retryAfter?: number; message?: string };

/** The parts of a Gemini `generateContent` body the scripts look at. */
export interface GenerateContentRequest {
  contents: Array<{ role?: string; parts?: Array<Record<string, unknown>> }>;
  systemInstruction?: { parts?: Array<{ text?: string }> };
  tools?: Array<{ functionDeclarations?: Array<{ name: string }> }>;
  generationConfig?: Record<string, unknown>;
  [key: string]: unknown;
}

/** What a script knows besides the request itself. */
export interface GeminiScriptContext {
  /** The model named in the URL (`/v1beta/models/<model>:streamGenerateContent`). */
  model: string;
  /** The agent's working directory, read from the CLI's session context ("Workspace Directories: - /abs"). */
  cwd: string | undefined;
  /** 0-based count of generate requests this server answered before this one (all sessions). */
  index: number;
  /** Function responses the conversation already carries, i.e. tool calls completed in this session. */
  functionResponses: number;
}

/** A test's model: called once per `generateContent` / `streamGenerateContent` request. */
export type GeminiScript = (req: GenerateContentRequest, ctx: GeminiScriptContext) => GeminiTurn | Promise<GeminiTurn>;

/** One request as the server saw it, in arrival order. */
export interface GeminiRecordedRequest {
  method: string;
  /** Path without the query (`/v1beta/models/gemini-2.5-pro:streamGenerateContent`). */
  path: string;
  query: string;
  kind: "generate" | "count_tokens" | "unknown";
  model?: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  at: number;
}
