import { isAbsolute, join } from "node:path";
import { geminiUserText } from "./request-info";
import type { GeminiScript, GeminiScriptContext, GeminiTurn, GeminiUsage } from "./types";

/** The absolute path of `relPath` inside the agent's working directory (Gemini CLI's tools want absolute paths). */
export function geminiPathInWorkdir(ctx: GeminiScriptContext, relPath: string): string {
  if (isAbsolute(relPath)) return relPath;
  if (!ctx.cwd) throw new Error(`[gemini-server] no workspace directory in the session context to place ${relPath}`);
  return join(ctx.cwd, relPath);
}

/** One `write_file` call creating `relPath` with `content`, then a final text answer. */
export function geminiWriteFileScript(
  relPath: string,
  content: string,
  options: { finalText?: string; usage?: GeminiUsage } = {},
): GeminiScript {
  const usage = options.usage ? { usage: options.usage } : {};
  return (_req, ctx) => {
    if (ctx.functionResponses > 0) return { text: options.finalText ?? `Wrote ${relPath}.`, chunks: 2, ...usage };
    const args = { file_path: geminiPathInWorkdir(ctx, relPath), content };
    return { functionCalls: [{ name: "write_file", args }], ...usage };
  };
}

/**
 * `run_shell_command echo hi-<n>` forever: the model never finishes on its own (/stop, maxTurns, timeout). The
 * command differs each time: the CLI's loop detector ends a run after a few identical calls ("Loop detected").
 */
export function geminiLoopToolsScript(options: { usage?: GeminiUsage } = {}): GeminiScript {
  return (_req, ctx) => ({
    functionCalls: [{ name: "run_shell_command", args: { command: `echo hi-${ctx.index}`, description: "Say hi" } }],
    ...(options.usage ? { usage: options.usage } : {}),
  });
}

/** The model accepts the request and never sends a byte (stall detection). */
export function geminiSilentScript(silentForMs = 60 * 60 * 1000): GeminiScript {
  return () => ({ silentForMs });
}

/** Plays `turns` in order, one per request, then repeats the last one. */
export function geminiSequenceScript(turns: GeminiTurn[]): GeminiScript {
  if (turns.length === 0) throw new Error("[gemini-server] geminiSequenceScript needs at least one turn");
  let next = 0;
  return () => turns[Math.min(next++, turns.length - 1)]!;
}

/** Picks a script by a marker word in the user's text (the prompt); `fallback` otherwise. */
export function geminiByPromptScript(routes: Record<string, GeminiScript>, fallback?: GeminiScript): GeminiScript {
  return (req, ctx) => {
    const text = geminiUserText(req);
    for (const [marker, script] of Object.entries(routes)) if (text.includes(marker)) return script(req, ctx);
    if (fallback) return fallback(req, ctx);
    return { text: `[gemini-server] no script for this prompt (markers: ${Object.keys(routes).join(", ")})` };
  };
}
