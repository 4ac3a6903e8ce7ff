import type { AgentEvent } from "@forgehand/supervisor";

/**
 * What the status comment says a live agent waits for, from its own events: a text while it waits on the model
 * API by itself (a retry, a rate limit), "" once it is active again (a message, a tool result, usage), undefined
 * for events that change nothing.
 */
export function waitingText(event: AgentEvent, now: number): string | undefined {
  switch (event.type) {
    case "api_retry": {
      const of =
        event.attempt !== undefined ? ` ${event.attempt}${event.maxRetries ? `/${event.maxRetries}` : ""}` : "";
      const after =
        event.status !== undefined ? ` after HTTP ${event.status}` : event.error ? ` after ${event.error}` : "";
      const next =
        event.delayMs !== undefined ? `, next try in ${Math.max(1, Math.round(event.delayMs / 1000))} s` : "";
      return `API retry${of}${after}${next}`;
    }
    case "rate_limit": {
      if (event.status !== "rejected") return undefined;
      const kind = event.limitType ? ` (${event.limitType})` : "";
      const until =
        event.resetsAt !== undefined && event.resetsAt > now
          ? ` until ${new Date(event.resetsAt).toISOString().slice(11, 16)} UTC`
          : "";
      return `rate limit${kind}${until}`;
    }
    case "assistant":
    case "tool_result":
    case "usage":
    case "result":
      return "";
    default:
      return undefined;
  }
}
