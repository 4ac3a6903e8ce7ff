import { describe, expect, it } from "vitest";
import { classifyApiErrorStatus } from "./classify-failure";
import { waitingText } from "./waiting-text";

describe("waitingText", () => {
  it("says what the agent waits for on its own retry and rate-limit events, and clears when it is active", () => {
    const now = Date.UTC(2026, 0, 1, 12, 0);
    expect(waitingText({ type: "api_retry", attempt: 2, maxRetries: 10, delayMs: 39_370, status: 529 }, now)).toBe(
      "API retry 2/10 after HTTP 529, next try in 39 s",
    );
    expect(waitingText({ type: "api_retry", attempt: 1, error: "unknown" }, now)).toBe("API retry 1 after unknown");
    expect(
      waitingText({ type: "rate_limit", status: "rejected", resetsAt: now + 3_600_000, limitType: "five_hour" }, now),
    ).toBe("rate limit (five_hour) until 13:00 UTC");
    expect(waitingText({ type: "rate_limit", status: "allowed" }, now)).toBeUndefined();
    expect(waitingText({ type: "assistant", usesTool: false, tools: [] }, now)).toBe("");
    expect(waitingText({ type: "line", text: "x" }, now)).toBeUndefined();
  });
});

describe("classifyApiErrorStatus", () => {
  it("takes 429, 408, 5xx and 529 from the stream as transient, leaves the rest to the agent", () => {
    expect(classifyApiErrorStatus(429)).toEqual({ kind: "transient", why: "rate limited (429)" });
    expect(classifyApiErrorStatus(529)).toEqual({ kind: "transient", why: "API overloaded (529)" });
    expect(classifyApiErrorStatus(503)).toEqual({ kind: "transient", why: "API error (503)" });
    expect(classifyApiErrorStatus(400)).toBeUndefined();
    expect(classifyApiErrorStatus(401)).toBeUndefined();
    expect(classifyApiErrorStatus(undefined)).toBeUndefined();
  });
});
