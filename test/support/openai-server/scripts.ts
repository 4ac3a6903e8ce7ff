import type { Reply, ReplyScript } from "./types";

/** Answers the i-th request with `replies[i]`, then repeats the last one. */
export function sequenceReplies(replies: Reply[]): ReplyScript {
  return (_req, ctx) => replies[Math.min(ctx.index, replies.length - 1)] as Reply;
}

/** One `exec_command` call per request until `calls` tool outputs came back, then a final message. */
export function shellLoopScript(opts: { commands: string[]; text: string }): ReplyScript {
  return (_req, ctx) => {
    const cmd = opts.commands[ctx.toolOutputs];
    return cmd === undefined ? { text: opts.text } : { call: { name: "exec_command", arguments: { cmd } } };
  };
}

/** Codex writes `path` through its own `apply_patch` tool, then answers `text`. */
export function applyPatchScript(opts: { path: string; content: string; text: string }): ReplyScript {
  const patch = [
    "*** Begin Patch",
    `*** Add File: ${opts.path}`,
    ...opts.content.split("\n").map((l) => `+${l}`),
    "*** End Patch",
  ].join("\n");
  return (_req, ctx) =>
    ctx.toolOutputs === 0 ? { customCall: { name: "apply_patch", input: patch } } : { text: opts.text };
}
