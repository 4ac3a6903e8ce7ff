/**
 * Field readers the stream parsers (Claude, Codex, Gemini) share: every line is an agent's output, so each field is
 * read as `unknown` and kept only when it has the expected type.
 */
export type Json = Record<string, unknown>;

/** Longest one-line summary of a tool input or output in an action line. */
export const SHORT = 200;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A non-negative finite number, else 0 (token counts). */
export function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** One line of at most SHORT characters. Sliced first: a tool output can be megabytes long. */
export function short(text: string): string {
  const oneLine = text
    .slice(0, SHORT * 4)
    .replace(/\s+/g, " ")
    .trim();
  return oneLine.length > SHORT ? `${oneLine.slice(0, SHORT - 1)}…` : oneLine;
}
