import { isAbsolute, join } from "node:path";
import { userText } from "./request-info";
import type { Script, ScriptContext, Turn, TurnUsage } from "./types";

/** The absolute path of `relPath` inside the agent's working directory. */
export function pathInWorkdir(ctx: ScriptContext, relPath: string): string {
  if (isAbsolute(relPath)) return relPath;
  if (!ctx.cwd) throw new Error(`[model-server] no working directory in the system prompt to place ${relPath}`);
  return join(ctx.cwd, relPath);
}

/** Options for {@link writeFileScript}. */
export interface WriteFileOptions {
  /** The final answer after the write; @defaultValue "Wrote <relPath>." */
  finalText?: string;
  /** Usage reported for each of the two turns (the CLI prices it into `total_cost_usd`). */
  usage?: TurnUsage;
}

/** One `Write` tool call creating `relPath` with `content`, then a final text answer. */
export function writeFileScript(relPath: string, content: string, options: WriteFileOptions = {}): Script {
  const usage = options.usage ? { usage: options.usage } : {};
  return (_req, ctx) => {
    if (ctx.toolResults > 0) return { text: options.finalText ?? `Wrote ${relPath}.`, ...usage };
    return { toolUse: { name: "Write", input: { file_path: pathInWorkdir(ctx, relPath), content } }, ...usage };
  };
}

/** Options for {@link loopToolsScript}. */
export interface LoopToolsOptions {
  /** Which harmless tool to call forever; @defaultValue "Bash" (runs `echo hi`) */
  tool?: "Bash" | "Read";
  /** Extra usage per turn, to drive the CLI's cost up (budget tests). */
  usage?: { input_tokens: number; output_tokens: number };
}

/** Tool calls forever: the model never finishes on its own (for /stop, maxTurns, budget and timeout). */
export function loopToolsScript(options: LoopToolsOptions = {}): Script {
  return (_req, ctx) => {
    const turn: Turn =
      options.tool === "Read"
        ? { toolUse: { name: "Read", input: { file_path: pathInWorkdir(ctx, "README.md") } } }
        : { toolUse: { name: "Bash", input: { command: "echo hi", description: "Say hi" } } };
    return options.usage ? { ...turn, usage: options.usage } : turn;
  };
}

/** The model accepts the request and never sends a byte (for stall detection). */
export function silentScript(silentForMs = 60 * 60 * 1000): Script {
  return () => ({ silentForMs });
}

/** Plays `turns` in order, one per main-loop request, then repeats the last one. */
export function sequenceScript(turns: Turn[]): Script {
  if (turns.length === 0) throw new Error("[model-server] sequenceScript needs at least one turn");
  let next = 0;
  return () => turns[Math.min(next++, turns.length - 1)]!;
}

/** Picks a script by a marker word in the user's prompt (e.g. one per stage or per issue); `fallback` otherwise. */
export function byPromptScript(routes: Record<string, Script>, fallback?: Script): Script {
  return (req, ctx) => {
    const text = userText(req);
    for (const [marker, script] of Object.entries(routes)) if (text.includes(marker)) return script(req, ctx);
    if (fallback) return fallback(req, ctx);
    return { text: `[model-server] no script for this prompt (markers: ${Object.keys(routes).join(", ")})` };
  };
}
