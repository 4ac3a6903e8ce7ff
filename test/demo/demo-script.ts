import type { Script } from "../support/model-server";
import { pathInWorkdir } from "../support/model-server";

export const GREETING = "Hello from forgehand's local demo!\n";

/**
 * What the scripted "model" does in the demo: look at the README, write hello.txt, then report.
 * `onTurn` lets the demo narrate each answer as the real Claude Code CLI receives it.
 */
export function demoScript(onTurn: (what: string) => void): Script {
  return (_req, ctx) => {
    if (ctx.toolResults === 0) {
      onTurn("model → Read README.md");
      return { toolUse: { name: "Read", input: { file_path: pathInWorkdir(ctx, "README.md") } }, usage: USAGE };
    }
    if (ctx.toolResults === 1) {
      onTurn("model → Write hello.txt");
      return {
        toolUse: { name: "Write", input: { file_path: pathInWorkdir(ctx, "hello.txt"), content: GREETING } },
        usage: USAGE,
      };
    }
    onTurn("model → final answer");
    return { text: "I added hello.txt with a friendly greeting.", usage: USAGE };
  };
}

// A few cents per turn at Opus prices, so the status comment shows a cost like a real run would.
const USAGE = { input_tokens: 12_000, output_tokens: 400 };
