/**
 * Agent session ids come from the agent's own output (the `session_id` of Claude's stream-json), so an
 * agent, or a prompt-injected model, chooses them; `/retry` puts the id into the next run's argv.
 */

/** The shape a resumable session id must have (Claude's are UUIDs). */
export const SESSION_ID = /^[A-Za-z0-9-]{8,128}$/;

export class InvalidSessionIdError extends Error {
  override readonly name = "InvalidSessionIdError";
}

/**
 * Returns `id` if it may be passed to an agent CLI, else throws {@link InvalidSessionIdError} saying why.
 * Besides {@link SESSION_ID}, an id may not start with `-`: `--dangerously-skip-permissions` matches
 * `[A-Za-z0-9-]{8,128}` and would be read as a flag when passed as its own argv element.
 */
export function validateSessionId(id: unknown): string {
  // The id is not echoed: it is the agent's text, and the message ends up in a status comment.
  if (typeof id !== "string")
    throw new InvalidSessionIdError(`[session] refusing to resume: the session id is a ${typeof id}, not a string`);
  if (!SESSION_ID.test(id))
    throw new InvalidSessionIdError(
      `[session] refusing to resume: the session id (${id.length} characters) is not 8–128 letters, digits and "-"`,
    );
  if (id.startsWith("-"))
    throw new InvalidSessionIdError('[session] refusing to resume: the session id starts with "-", like a flag');
  return id;
}

/** Whether {@link validateSessionId} accepts `id`. */
export function isValidSessionId(id: unknown): id is string {
  try {
    validateSessionId(id);
    return true;
  } catch {
    return false;
  }
}

/**
 * The agent's `resumeArgs` with `{sessionId}` replaced by the validated id. An element that is exactly
 * `{sessionId}` right after a `--long-flag` is joined to it as `--flag=<id>` (so no CLI parser can take the
 * id for a flag of its own, even one with an optional value, like Claude's `--resume [id]`); anywhere else
 * the id is substituted in place. Throws {@link InvalidSessionIdError} for a bad id.
 */
export function resumeArgv(resumeArgs: readonly string[], sessionId: string): string[] {
  const id = validateSessionId(sessionId);
  const out: string[] = [];
  for (let i = 0; i < resumeArgs.length; i++) {
    const arg = resumeArgs[i] as string;
    const next = resumeArgs[i + 1];
    if (next === "{sessionId}" && /^--[A-Za-z0-9][A-Za-z0-9-]*$/.test(arg)) {
      out.push(`${arg}=${id}`);
      i++;
      continue;
    }
    out.push(arg.replaceAll("{sessionId}", id));
  }
  return out;
}
