import { describe, expect, it } from "vitest";
import type { AbortCause } from "./abort-cause";
import { type AfterRun, type AfterRunInput, decideAfterRun } from "./decide-after-run";
import type { StageResult } from "./stage-context";

const RETRIES = { transientRetries: 2, retryBackoff: 1_000 };
const stop: AbortCause = { kind: "stop", request: { by: "alice", reason: "command", at: 1 } };
const rateLimited = (retryAfterMs?: number): StageResult => ({
  state: "failed",
  reason: "API Error: 429",
  transient: { why: "rate limited (429)", ...(retryAfterMs ? { retryAfterMs } : {}) },
});

type Row = [name: string, input: Partial<AfterRunInput> & { result: StageResult }, expected: AfterRun];

const rows: Row[] = [
  [
    "a shutdown returns a stopped run to the queue at once",
    { result: { state: "stopped" }, cause: { kind: "shutdown" } },
    {
      kind: "requeue",
      why: "runner shutting down",
      reason: "returned to the queue: runner shutting down",
      log: "agent stopped and run returned to the queue: runner shutting down",
      delayMs: 0,
    },
  ],
  [
    "a lost lease returns it after the busy-issue wait",
    { result: { state: "stopped" }, cause: { kind: "lease", why: "expired" } },
    {
      kind: "requeue",
      why: "issue lease lost (expired)",
      reason: "returned to the queue: issue lease lost (expired)",
      log: "agent stopped and run returned to the queue: issue lease lost (expired)",
      delayMs: 250,
    },
  ],
  [
    "a shutdown after the run failed on its own does not requeue it",
    { result: { state: "failed", reason: "boom" }, cause: { kind: "shutdown" } },
    {
      kind: "end",
      state: "failed",
      patch: { reason: "boom" },
      log: "run ended: failed — boom",
      labelFailed: true,
    },
  ],
  [
    "a transient failure with retries left is retried after the backoff",
    { result: rateLimited() },
    {
      kind: "retry",
      why: "rate limited (429)",
      reason: "transient failure (rate limited (429)); retry 1/2 in 1s",
      retriesUsed: 1,
      delayMs: 1_000,
    },
  ],
  [
    "the backoff doubles per retry used",
    { result: rateLimited(), retriesUsed: 1 },
    {
      kind: "retry",
      why: "rate limited (429)",
      reason: "transient failure (rate limited (429)); retry 2/2 in 2s",
      retriesUsed: 2,
      delayMs: 2_000,
    },
  ],
  [
    "a Retry-After longer than the backoff wins",
    { result: rateLimited(90_000) },
    {
      kind: "retry",
      why: "rate limited (429)",
      reason: "transient failure (rate limited (429)); retry 1/2 in 1m 30s",
      retriesUsed: 1,
      delayMs: 90_000,
    },
  ],
  [
    "a transient failure past the retry budget ends the run as failed",
    { result: rateLimited(), retriesUsed: 2 },
    {
      kind: "end",
      state: "failed",
      patch: { reason: "gave up after 2 retries: API Error: 429" },
      log: "run ended: failed — gave up after 2 retries: API Error: 429",
      labelFailed: true,
    },
  ],
  [
    "no transient retries configured: the first transient failure ends it",
    { result: rateLimited(), retries: { transientRetries: 0, retryBackoff: 1_000 } },
    {
      kind: "end",
      state: "failed",
      patch: { reason: "gave up after 0 retries: API Error: 429" },
      log: "run ended: failed — gave up after 0 retries: API Error: 429",
      labelFailed: true,
    },
  ],
  [
    "a success ends the run with its pull request, unlabelled",
    { result: { state: "succeeded", prUrl: "https://example.test/pr/1" } },
    {
      kind: "end",
      state: "succeeded",
      patch: { reason: "", prUrl: "https://example.test/pr/1" },
      log: "run ended: succeeded",
      labelFailed: false,
    },
  ],
  [
    "a user's stop ends the run naming who stopped it, unlabelled",
    { result: { state: "stopped", reason: "stopped while waiting to retry pushing" }, cause: stop },
    {
      kind: "end",
      state: "stopped",
      patch: { reason: "stopped by alice (command)", stoppedBy: "alice" },
      log: "run ended: stopped — stopped by alice (command)",
      labelFailed: false,
    },
  ],
  [
    "a stopped result without a cause ends as stopped with its own reason",
    { result: { state: "stopped", reason: "gone" } },
    {
      kind: "end",
      state: "stopped",
      patch: { reason: "gone" },
      log: "run ended: stopped — gone",
      labelFailed: false,
    },
  ],
  [
    "a watchdog end is labelled failed",
    { result: { state: "timed_out", reason: "no exit within 60s" } },
    {
      kind: "end",
      state: "timed_out",
      patch: { reason: "no exit within 60s" },
      log: "run ended: timed_out — no exit within 60s",
      labelFailed: true,
    },
  ],
];

describe("decideAfterRun", () => {
  it.each(rows)("%s", (_name, input, expected) => {
    expect(
      decideAfterRun({ cause: undefined, retriesUsed: 0, retries: RETRIES, lockedRetryMs: 250, ...input }),
    ).toEqual(expected);
  });
});
