import type { Logger } from "@forgehand/core";
import type { SandboxOptions } from "./sandbox-options";

/** Typed events a parser yields from an agent's stdout. */
export type AgentEvent =
  | { type: "session"; sessionId: string; model?: string }
  | {
      type: "assistant";
      /** Message id; Claude repeats a message once per content block, consumers count each id once. */
      messageId?: string;
      model?: string;
      /** True when this message contains at least one tool_use block. */
      usesTool: boolean;
      /**
       * The tool calls of this event; each is one tool turn (`maxTurns` counts tool calls for every parser).
       * `id` (the CLI's tool-call id) makes a call repeated on several lines count once.
       */
      tools: { name: string; input: string; id?: string }[];
      text?: string;
    }
  | { type: "tool_result"; toolUseId?: string; isError: boolean; text?: string }
  | {
      type: "usage";
      /** Usage carrying the same id is counted once (the largest value of each field wins); absent: each adds. */
      messageId?: string;
      model?: string;
      /** Input tokens NOT read from a cache (OpenAI and Gemini count cached tokens inside their input: subtract them). */
      inputTokens: number;
      outputTokens: number;
      cacheReadTokens: number;
      cacheWriteTokens: number;
      /**
       * A parser's live guess from what the CLI showed (Codex and Gemini report tokens only at the end): an
       * estimated usage replaces the earlier estimate with its id, and the first real usage drops every estimate.
       */
      estimated?: boolean;
    }
  | {
      type: "result";
      isError: boolean;
      subtype?: string;
      totalCostUsd?: number;
      /** Claude's `num_turns` (model round trips); informational: tool turns are counted from tool calls. */
      numTurns?: number;
      text?: string;
      sessionId?: string;
      /** Why the CLI's loop ended (Claude 2.1.3xx `terminal_reason`: `completed`, `max_turns`, …). */
      terminalReason?: string;
      /** HTTP status of the API error the run ended on (Claude `api_error_status`), for transient classification. */
      apiErrorStatus?: number;
      /** Tokens and the CLI's own USD per model (Claude `modelUsage`). */
      modelUsage?: Record<string, ModelUsage>;
    }
  /**
   * A failed model API call as the CLI itself reported it (codex `error`/`turn.failed`, …): lets the runner
   * classify the failure from typed facts instead of a regex over stderr. `transient`: 429 / 5xx / overloaded.
   */
  | { type: "api_error"; status?: number; retryAfterMs?: number; transient: boolean; message: string }
  /**
   * The CLI is waiting on the model API by itself (Claude `system/api_retry`): activity, not a stall. The stall
   * clock resumes after `delayMs`.
   */
  | { type: "api_retry"; attempt?: number; maxRetries?: number; delayMs?: number; status?: number; error?: string }
  /** A rate-limit notice of the CLI (Claude `rate_limit_event`); `rejected` means it waits until `resetsAt` (ms). */
  | { type: "rate_limit"; status?: string; resetsAt?: number; limitType?: string }
  | { type: "line"; text: string };

/** One model's share of a run, as a CLI reports it at the end. */
export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd?: number;
}

/** Terminal reason of a supervised run (mirrors the run states of docs/SPEC.md § Runs and the supervisor). */
export type RunEndReason = "succeeded" | "failed" | "stopped" | "timed_out" | "stalled" | "turn_limit" | "budget_limit";

/** USD per million tokens, keyed by model id prefix (longest prefix wins). */
export type PriceTable = Record<string, { input: number; output: number; cacheRead?: number; cacheWrite?: number }>;

/** Result of a verified process-tree kill. */
export interface KillReport {
  /** Pids that were alive when the kill began and are now gone. */
  killed: number[];
  /** Pids still alive when the verification bound passed, with their command lines. */
  survivors: { pid: number; command: string }[];
  /** Whether SIGKILL had to be sent after the grace period. */
  escalated: boolean;
  durationMs: number;
}

/** Live counters, also passed to `onProgress` as they change. */
export interface RunProgress {
  turns: number;
  costUsd: number;
  /** `costUsd` includes a parser's live estimate, not yet replaced by the CLI's real token counts. */
  costEstimated?: boolean;
  sessionId?: string;
  lastEventAt: number;
}

export interface SuperviseOptions {
  /** argv; never a shell string. */
  command: string[];
  cwd: string;
  /** The complete environment of the agent (nothing is inherited). */
  env: Record<string, string>;
  /** The prompt on stdin, or written to a file whose path is appended to argv. */
  prompt: { via: "stdin" | "file"; text: string };
  parser: "claude-stream-json" | "codex-json" | "gemini-stream-json" | "lines";
  /** The model the agent runs, when its stream does not name it (codex): from argv `-m` or agent config `model:`. */
  model?: string;
  limits: { timeoutMs?: number; stallMs?: number; maxTurns?: number; maxBudgetUsd?: number };
  /** SIGTERM → wait this long → SIGKILL. */
  killGraceMs: number;
  /** External cancel (`/stop`): same verified kill, ends as `stopped`. */
  signal?: AbortSignal;
  /**
   * A spend cap beyond this run was crossed (`budgets:`, counted across runners): same verified kill, ends as
   * `budget_limit` with the signal's reason (a string) as the detail.
   */
  budgetSignal?: AbortSignal;
  /** Directory of the on-disk live-pid registry (orphan reaping after a crash). */
  registryDir?: string;
  /** Identifies the run in the registry and logs. */
  runId: string;
  prices?: PriceTable;
  onEvent?: (event: AgentEvent) => void;
  onProgress?: (progress: RunProgress) => void;
  /** Every raw stdout/stderr line, for the run log; `system`: the supervisor's own notes (sandbox, egress denied). */
  onLog?: (stream: "stdout" | "stderr" | "system", line: string) => void;
  /**
   * Run the agent inside a bubblewrap sandbox (`cwd` is the worktree, the only writable tree besides
   * `sandbox.writable`). Fails closed: a sandbox that cannot be set up fails the run and spawns nothing.
   * Unset: the agent runs as the runner's own user (the `sandbox: { enabled: false }` escape hatch).
   */
  sandbox?: SandboxOptions;
  /** Warnings (malformed lines, callback errors, kill survivors). @defaultValue silentLogger */
  logger?: Logger;
  /**
   * Called the moment the agent exits successfully (code 0 and, for a stream parser, a result that is not an
   * error), with its final message: before the sweep of what it left behind and the verified kill, which take a
   * while. The caller records "the agent's work is done" here, so a runner dying during the sweep does not run
   * (and pay for) the agent again. Awaited alongside the sweep; a throw is logged, never fails the run.
   */
  onCleanExit?: (resultText: string | undefined) => Promise<void>;
}

/** What `supervise` resolves with: only after every process of the run is verified gone. */
export interface RunOutcome {
  reason: RunEndReason;
  exitCode: number | null;
  signal: string | null;
  turns: number;
  costUsd: number;
  /** `costUsd` is the parser's estimate: the run ended before the CLI reported its real token counts. */
  costEstimated?: boolean;
  sessionId?: string;
  /** The agent's final result text (Claude's `result` event), if any. */
  resultText?: string;
  /** The last model API failure the agent's own stream reported (typed; preferred over `stderrTail` regexes). */
  apiError?: Extract<AgentEvent, { type: "api_error" }>;
  /**
  /** HTTP status of the model-API error the agent ended on, when its stream said (429, 5xx, 529). */
  apiErrorStatus?: number;
  /** Last stderr lines, for classifying failures (429/529/network) and for the status comment. */
  stderrTail: string;
  /** Human-readable detail: which limit, or why it failed. */
  detail: string;
  kill?: KillReport;
  durationMs: number;
  /** Present when the run was sandboxed. */
  sandbox?: SandboxReport;
}

/** What a sandboxed run reports besides its outcome. */
export interface SandboxReport {
  /** Egress connections the allowlist refused (each is also a `system` run-log line). */
  deniedConnections: number;
  /** The run cgroup, or why there was none. */
  cgroup?: string;
  cgroupUnavailable?: string;
  /** The uid the agent ran as (host view). */
  uid: number;
}
