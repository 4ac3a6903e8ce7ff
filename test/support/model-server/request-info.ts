import type { MessagesRequest } from "./types";

// Claude Code 2.1.x writes " - Primary working directory: /abs/path" into its system prompt;
// older builds wrote "Working directory: …". Both are accepted, case-insensitively.
const WORKING_DIRECTORY = /working directory:\s*(\S[^\n]*)/i;

/** The system prompt flattened to one string (it may be a string or a list of text blocks). */
export function systemText(req: MessagesRequest): string {
  if (typeof req.system === "string") return req.system;
  if (!Array.isArray(req.system)) return "";
  return req.system.map((block) => block.text ?? "").join("\n");
}

/**
 * The agent's working directory named in the system prompt, if any. Claude Code 2.1.3xx moved its "# Environment"
 * section out of `system` into a `role: "system"` message inside `messages`; both places are read.
 */
export function workingDirectoryOf(req: MessagesRequest): string | undefined {
  const found = WORKING_DIRECTORY.exec(systemText(req))?.[1]?.trim();
  if (found) return found;
  // Claude Code 2.1.332 moved "# Environment" out of `system` into a `role: "system"` message.
  for (const message of req.messages ?? []) {
    if (message.role !== "system") continue;
    const text =
      typeof message.content === "string"
        ? message.content
        : message.content.map((block) => (typeof block.text === "string" ? block.text : "")).join("\n");
    const dir = WORKING_DIRECTORY.exec(text)?.[1]?.trim();
    if (dir) return dir;
  }
  return undefined;
}

/** Tool results already in the conversation: one per completed tool turn. */
export function countToolResults(req: MessagesRequest): number {
  let count = 0;
  for (const message of req.messages ?? []) {
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content) if (block.type === "tool_result") count++;
  }
  return count;
}

/**
 * The agent loop sends the tool list; side requests (session titles, summaries, topic checks) send none.
 * Side requests are answered with plain text so they never consume a test's script.
 */
export function isMainLoopRequest(req: MessagesRequest): boolean {
  return Array.isArray(req.tools) && req.tools.length > 0;
}

/** The text of the conversation's user messages (the agent's prompt comes first), for scripts that branch on it. */
export function userText(req: MessagesRequest): string {
  const parts: string[] = [];
  for (const message of req.messages ?? []) {
    if (message.role !== "user") continue;
    if (typeof message.content === "string") parts.push(message.content);
    else for (const block of message.content) if (block.type === "text") parts.push(String(block.text ?? ""));
  }
  return parts.join("\n");
}
