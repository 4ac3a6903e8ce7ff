import type { Redis } from "ioredis";
import { z } from "zod";

/**
 * How long a saved agent session is kept: as long as `/retry` can name its run (the run record's TTL,
 * run-store.ts), so a retry on any runner within that window can resume it.
 */
export const AGENT_SESSION_TTL_S = 30 * 24 * 3600;
/** Most bytes one saved session may hold (all its files, decoded); a larger one is not saved (the retry starts fresh). */
export const AGENT_SESSION_MAX_BYTES = 8 * 1024 * 1024;
/** Most files one saved session may hold. */
export const AGENT_SESSION_MAX_FILES = 200;
/** Most characters of the run's final output kept beside the session (the fresh-session fallback's prompt). */
export const AGENT_SESSION_OUTPUT_MAX = 16_000;

/**
 * A path relative to the agent's HOME: forward slashes, no empty, `.` or `..` segment, no leading slash,
 * no NUL or backslash. What a restore may write is decided here, before a byte is on disk.
 */
export function isSafeHomePath(path: string): boolean {
  if (path.length === 0 || path.length > 1024 || /[\0\\]/.test(path) || path.startsWith("/")) return false;
  return path.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..");
}

/** One saved session: its files (relative to HOME) and the worktree it ran in (restore rewrites it). */
export const AgentSessionState = z.object({
  v: z.literal(1),
  /** Which CLI's layout the files follow (`claude`). */
  cli: z.string().max(32),
  sessionId: z.string().min(1).max(128),
  /** The worktree (the agent's cwd) on the runner that saved it. */
  worktree: z.string().min(1).max(4096),
  savedAt: z.number(),
  files: z
    .array(z.object({ path: z.string().refine(isSafeHomePath, "not a safe path under HOME"), data: z.string() }))
    .max(AGENT_SESSION_MAX_FILES),
});
export type AgentSessionState = z.infer<typeof AgentSessionState>;

/** Key of an issue's saved session `sessionId`. */
export function agentSessionKey(prefix: string, issue: string, sessionId: string): string {
  return `${prefix}:agent-session:${issue}:${sessionId}`;
}

/** Key of the final output of an issue's session `sessionId`: its own key, so it outlives a session too big to save or corrupt. */
export function agentOutputKey(prefix: string, issue: string, sessionId: string): string {
  return `${prefix}:agent-output:${issue}:${sessionId}`;
}

/** Keeps the run's final output (capped) for the fresh-session fallback of a later attempt. */
export async function saveAgentOutput(
  redis: Redis,
  prefix: string,
  issue: string,
  sessionId: string,
  text: string,
  ttlS = AGENT_SESSION_TTL_S,
): Promise<void> {
  await redis.set(agentOutputKey(prefix, issue, sessionId), text.slice(0, AGENT_SESSION_OUTPUT_MAX), "EX", ttlS);
}

/** The saved final output of a session, capped again on the way out (stored bytes are untrusted). */
export async function loadAgentOutput(
  redis: Redis,
  prefix: string,
  issue: string,
  sessionId: string,
): Promise<string | null> {
  const text = await redis.get(agentOutputKey(prefix, issue, sessionId));
  return text === null ? null : text.slice(0, AGENT_SESSION_OUTPUT_MAX);
}

/** Decoded size of the files (base64 `data`). */
function decodedBytes(state: AgentSessionState): number {
  return state.files.reduce((n, f) => n + Math.floor((f.data.length * 3) / 4), 0);
}

/**
 * Saves a session for later attempts on any runner. Returns false (nothing stored) for a session
 * over the caps: a retry then falls back to a fresh session, which is better than a Redis full of transcripts.
 */
export async function saveAgentSession(
  redis: Redis,
  prefix: string,
  issue: string,
  state: AgentSessionState,
  opts: { ttlS?: number; maxBytes?: number } = {},
): Promise<boolean> {
  const parsed = AgentSessionState.parse(state);
  if (decodedBytes(parsed) > (opts.maxBytes ?? AGENT_SESSION_MAX_BYTES)) return false;
  const key = agentSessionKey(prefix, issue, parsed.sessionId);
  await redis.set(key, JSON.stringify(parsed), "EX", opts.ttlS ?? AGENT_SESSION_TTL_S);
  return true;
}

/** What loading a saved session found; `invalid` says why stored bytes were refused. */
export type LoadedAgentSession = { found: true; state: AgentSessionState } | { found: false; invalid?: string };

/** Loads a saved session; anything that does not parse, or is over the caps, is refused (stored bytes are untrusted). */
export async function loadAgentSession(
  redis: Redis,
  prefix: string,
  issue: string,
  sessionId: string,
  opts: { maxBytes?: number } = {},
): Promise<LoadedAgentSession> {
  const max = opts.maxBytes ?? AGENT_SESSION_MAX_BYTES;
  const raw = await redis.get(agentSessionKey(prefix, issue, sessionId));
  if (raw === null) return { found: false };
  // base64 is 4/3 of the bytes; JSON framing is small next to the cap.
  if (raw.length > Math.ceil((max * 4) / 3) + 64 * 1024) return { found: false, invalid: "larger than the size cap" };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { found: false, invalid: "not JSON" };
  }
  const parsed = AgentSessionState.safeParse(json);
  if (!parsed.success) return { found: false, invalid: parsed.error.issues[0]?.message ?? "malformed" };
  if (parsed.data.sessionId !== sessionId) return { found: false, invalid: "stored under another session id" };
  if (decodedBytes(parsed.data) > max) return { found: false, invalid: "larger than the size cap" };
  return { found: true, state: parsed.data };
}
