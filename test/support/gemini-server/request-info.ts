import type { GenerateContentRequest } from "./types";

// gemini-cli 0.61.0 opens the conversation with a <session_context> user part listing
// "- **Workspace Directories:**\n  - /abs/path"; the first listed directory is the agent's cwd.
const WORKSPACE = /Workspace Directories:\**\s*\n\s*-\s*(\S[^\n]*)/;

/** The text parts of the conversation's user turns (the CLI's session context, then the prompt), joined. */
export function geminiUserText(req: GenerateContentRequest): string {
  const parts: string[] = [];
  for (const content of req.contents ?? []) {
    if (content.role !== "user") continue;
    for (const part of content.parts ?? []) if (typeof part.text === "string") parts.push(part.text);
  }
  return parts.join("\n");
}

/** The agent's working directory named in the session context, if any. */
export function geminiWorkingDirectory(req: GenerateContentRequest): string | undefined {
  return WORKSPACE.exec(geminiUserText(req))?.[1]?.trim();
}

/** Function responses already in the conversation: one per completed tool call. */
export function countFunctionResponses(req: GenerateContentRequest): number {
  let count = 0;
  for (const content of req.contents ?? [])
    for (const part of content.parts ?? []) if (part.functionResponse !== undefined) count++;
  return count;
}

/** The function-call names the request offers (the CLI's tool list). */
export function declaredFunctions(req: GenerateContentRequest): string[] {
  return (req.tools ?? []).flatMap((tool) => (tool.functionDeclarations ?? []).map((f) => f.name));
}
