import type { StopRequest } from "@forgehand/queue";

/** Why a live run's AbortController fired. */
export type AbortCause = { kind: "stop"; request: StopRequest } | { kind: "shutdown" } | { kind: "lease"; why: string };
