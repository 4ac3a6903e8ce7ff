import type { ForgeClient, ForgeClients } from "@forgehand/forge";
import type { AgentEvent, SuperviseOptions } from "@forgehand/supervisor";
import type { RunGateFn, SuperviseFn } from "./ports";

type LogStreamName = Parameters<NonNullable<SuperviseOptions["onLog"]>>[0];

/** Replaces every secret in a text with `[REDACTED]` (the process's `Redactor.redact`). */
export type Redact = (text: string) => string;

/** An agent event with its agent-written texts redacted; ids (session, message) and numbers as they are. */
export function redactEvent(event: AgentEvent, redact: Redact): AgentEvent {
  switch (event.type) {
    case "assistant":
      return {
        ...event,
        tools: event.tools.map((t) => ({ ...t, name: redact(t.name), input: redact(t.input) })),
        ...(event.text !== undefined ? { text: redact(event.text) } : {}),
      };
    case "tool_result":
    case "result":
      return event.text !== undefined ? { ...event, text: redact(event.text) } : event;
    case "line":
      return { ...event, text: redact(event.text) };
    case "api_error":
      return { ...event, message: redact(event.message) };
    default:
      return event;
  }
}

/**
 * The supervisor with everything the agent prints redacted where it enters the runner: its events, its
 * log lines and the outcome's texts. Here, not at each consumer, because consumers cut texts (an action
 * line to 80 characters, a stderr tail to its last 800) and a cut secret no longer matches its literal.
 */
export function redactingSupervise(supervise: SuperviseFn, redact: Redact): SuperviseFn {
  return async (options) => {
    const { onEvent, onLog } = options;
    const outcome = await supervise({
      ...options,
      ...(onEvent ? { onEvent: (event: AgentEvent) => onEvent(redactEvent(event, redact)) } : {}),
      ...(onLog ? { onLog: (stream: LogStreamName, line: string) => onLog(stream, redact(line)) } : {}),
    });
    return {
      ...outcome,
      stderrTail: redact(outcome.stderrTail),
      detail: redact(outcome.detail),
      ...(outcome.resultText !== undefined ? { resultText: redact(outcome.resultText) } : {}),
      ...(outcome.apiError ? { apiError: { ...outcome.apiError, message: redact(outcome.apiError.message) } } : {}),
    };
  };
}

/** The gate with its output tail redacted (it is quoted in the run's reason and status comment). */
export function redactingRunGate(runGate: RunGateFn, redact: Redact): RunGateFn {
  return async (argv, cwd, opts) => {
    const result = await runGate(argv, cwd, opts);
    return { ...result, outputTail: redact(result.outputTail) };
  };
}

/**
 * Forge clients whose git credentials are added to the redactor as they are handed out: an App's
 * installation token is minted at run time, and a token in a failed push's message must not show.
 */
export function forgesAddingCredentials(
  forges: ForgeClients,
  add: (values: Iterable<string | null | undefined>) => void,
): ForgeClients {
  const wrapped = new WeakMap<ForgeClient, ForgeClient>();
  const wrap = (client: ForgeClient): ForgeClient => {
    let out = wrapped.get(client);
    if (!out) {
      const gitCredentials: ForgeClient["gitCredentials"] = async (repo) => {
        const credentials = await client.gitCredentials(repo);
        if (credentials) add([credentials.password]);
        return credentials;
      };
      // A proxy, not a copy: every other method runs on the client itself (its `this`, its state).
      out = new Proxy(client, {
        get(target, prop) {
          if (prop === "gitCredentials") return gitCredentials;
          const value = Reflect.get(target, prop, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      wrapped.set(client, out);
    }
    return out;
  };
  return {
    for: (forge, installationId) => wrap(forges.for(forge, installationId)),
    botLogin: (forge) => forges.botLogin(forge),
  };
}
