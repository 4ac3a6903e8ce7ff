/** Characters per token of the live estimate (English text and code average about 4 for GPT and Gemini tokenizers). */
export const CHARS_PER_TOKEN = 4;
/**
 * Input tokens of a model request before any conversation: the CLI's own instructions and tool schemas, which the
 * stream never shows. Codex and Gemini CLI send several times this; a low floor keeps the estimate below the
 * real figure, so it never stops a run the CLI's own counts would not.
 */
export const REQUEST_FLOOR_TOKENS = 2000;

export interface LiveTokens {
  /** Input not read from a cache: the floor on the first request, then what the conversation grew by. */
  inputTokens: number;
  /** Input resent from earlier requests (providers cache a repeated prefix). */
  cacheReadTokens: number;
  outputTokens: number;
}

export interface LiveTokenEstimate {
  /** Text the model wrote in the response under way (a message, reasoning, a tool call's arguments). */
  output(chars: number): void;
  /** Text the next request carries that the model did not write (the prompt, a tool's output). */
  context(chars: number): void;
  /** Ends the response under way; the running totals when one was open, else undefined. */
  endResponse(): LiveTokens | undefined;
}

/**
 * A running token estimate for CLIs that report tokens only when the run ends (Codex `turn.completed`, Gemini
 * `result`), from what their stream shows: every model response resends the conversation so far (its earlier
 * part counted as a cache read) and adds its own text as output, all at CHARS_PER_TOKEN. Only counts are kept,
 * never the text.
 */
export function createLiveTokenEstimate(): LiveTokenEstimate {
  const totals: LiveTokens = { inputTokens: 0, cacheReadTokens: 0, outputTokens: 0 };
  /** Characters the next request sends so far, and those the previous one sent (the cached prefix). */
  let contextChars = 0;
  let sentChars = 0;
  let requests = 0;
  let pendingOutput = 0;
  let open = false;
  return {
    output(chars) {
      pendingOutput += chars;
      open = true;
    },
    context(chars) {
      contextChars += chars;
    },
    endResponse() {
      if (!open) return undefined;
      open = false;
      if (requests++ === 0) contextChars += REQUEST_FLOOR_TOKENS * CHARS_PER_TOKEN;
      totals.inputTokens += Math.ceil((contextChars - sentChars) / CHARS_PER_TOKEN);
      totals.cacheReadTokens += Math.ceil(sentChars / CHARS_PER_TOKEN);
      totals.outputTokens += Math.ceil(pendingOutput / CHARS_PER_TOKEN);
      // The next request resends this one's input (a cached prefix) and, as new input, the model's answer.
      sentChars = contextChars;
      contextChars += pendingOutput;
      pendingOutput = 0;
      return { ...totals };
    },
  };
}
