import { type LogStream, loadAgentOutput, loadAgentSession, saveAgentOutput, saveAgentSession } from "@forgehand/queue";
import type { RunOutcome } from "@forgehand/supervisor";
import type { Redis } from "ioredis";
import { collectClaudeSession, restoreClaudeSession } from "./claude-session-files";

/** Where agent sessions are shared between runners (the queue's Redis). */
export interface AgentSessionStore {
  redis: Redis;
  prefix: string;
}

/** Where one run's agent keeps its session: the HOME on the host, the cwd it runs in, who owns the files. */
export interface SessionPlace {
  /** `knownAgentCli` of the agent: only `claude`'s layout is known. */
  cli: string | undefined;
  issue: string;
  home: string | undefined;
  worktree: string;
  owner?: { uid: number; gid: number } | undefined;
}

/**
 * True when the CLI could not find the session it was told to resume (Claude Code: "No conversation found
 * with session ID …"; the same words for Codex's "no rollout found" and Gemini's "no session").
 */
export function isMissingSession(
  outcome: Pick<RunOutcome, "reason" | "stderrTail" | "resultText" | "detail">,
): boolean {
  if (outcome.reason !== "failed") return false;
  const text = `${outcome.stderrTail}\n${outcome.resultText ?? ""}\n${outcome.detail}`;
  return /no conversation found|no (saved )?session found|no rollout found/i.test(text);
}

/**
 * Before a resumed attempt: writes the saved session into this runner's agent HOME (any runner may take
 * the attempt) and reads the earlier output for the fallback. Never throws: a session that cannot be
 * restored is logged, and the resume then fails over to a fresh session.
 */
export async function restoreAgentSession(
  store: AgentSessionStore | undefined,
  place: SessionPlace,
  sessionId: string,
  onLog: (stream: LogStream, line: string) => void,
): Promise<{ previousOutput?: string }> {
  if (!store) return {};
  const previousOutput =
    (await loadAgentOutput(store.redis, store.prefix, place.issue, sessionId).catch(() => null)) ?? undefined;
  const out = previousOutput ? { previousOutput } : {};
  if (place.cli !== "claude" || !place.home) return out;
  try {
    const loaded = await loadAgentSession(store.redis, store.prefix, place.issue, sessionId);
    if (!loaded.found) {
      onLog(
        "system",
        `saved agent session ${sessionId} ${loaded.invalid ? `refused: ${loaded.invalid}` : "not found"}`,
      );
      return out;
    }
    const n = await restoreClaudeSession({
      home: place.home,
      files: loaded.state.files,
      savedWorktree: loaded.state.worktree,
      worktree: place.worktree,
      ...(place.owner ? { owner: place.owner } : {}),
    });
    onLog("system", `restored agent session ${sessionId} (${n} file${n === 1 ? "" : "s"})`);
  } catch (error) {
    onLog("system", `saved agent session ${sessionId} not restored: ${(error as Error).message}`);
  }
  return out;
}

/** After an attempt: saves the session's files and final output for the next attempt, on whichever runner. Never throws. */
export async function saveAgentSessionState(
  store: AgentSessionStore | undefined,
  place: SessionPlace,
  outcome: Pick<RunOutcome, "sessionId" | "resultText">,
  onLog: (stream: LogStream, line: string) => void,
): Promise<void> {
  const sessionId = outcome.sessionId;
  if (!store || !sessionId) return;
  try {
    if (outcome.resultText)
      await saveAgentOutput(store.redis, store.prefix, place.issue, sessionId, outcome.resultText);
    if (place.cli !== "claude" || !place.home) return;
    const files = await collectClaudeSession(place.home, sessionId);
    const saved =
      files !== null &&
      (await saveAgentSession(store.redis, store.prefix, place.issue, {
        v: 1,
        cli: "claude",
        sessionId,
        worktree: place.worktree,
        savedAt: Date.now(),
        files,
      }));
    if (!saved) onLog("system", `agent session ${sessionId} not saved: none found, or over the size cap`);
  } catch (error) {
    onLog("system", `agent session ${sessionId} not saved: ${(error as Error).message}`);
  }
}

/** The prompt of the fresh session a failed resume falls back to: the stage's prompt and what the earlier session said. */
export function fallbackPrompt(prompt: string, previousOutput: string | undefined): string {
  const earlier = previousOutput
    ? `\n\n---\nAn earlier attempt of this stage ran in a session that could not be resumed. Its final message was:\n\n${previousOutput}\n`
    : "\n\n---\nAn earlier attempt of this stage ran in a session that could not be resumed; its output is not available.\n";
  return prompt + earlier;
}
