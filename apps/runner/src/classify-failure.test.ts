import { ForgeApiError } from "@forgehand/forge";
import { describe, expect, it } from "vitest";
import { backoffMs, classifyAgentFailure, classifyError, parseRetryAfterText } from "./classify-failure";
import { forgeError } from "./testing/memory-forge";

describe("failure classes", () => {
  it("treats rate limits, overload and network errors in agent output as transient", () => {
    expect(classifyAgentFailure("API Error: 429 Retry-After: 2")).toEqual({
      kind: "transient",
      why: "rate limited (429)",
      retryAfterMs: 2_000,
    });
    expect(classifyAgentFailure('{"type":"error","error":{"type":"overloaded_error"}}').kind).toBe("transient");
    expect(classifyAgentFailure("Error: 529").kind).toBe("transient");
    expect(classifyAgentFailure("fetch failed: read ECONNRESET").kind).toBe("transient");
    expect(classifyAgentFailure("connect ETIMEDOUT 1.2.3.4:443").kind).toBe("transient");
    expect(classifyAgentFailure("TypeError: x is not a function").kind).toBe("permanent");
  });

  it("reads Retry-After in seconds or ms", () => {
    expect(parseRetryAfterText("retry-after: 30")).toBe(30_000);
    expect(parseRetryAfterText("Retry after 1.5s")).toBe(1_500);
    expect(parseRetryAfterText("retry-after=250ms")).toBe(250);
    expect(parseRetryAfterText("no hint")).toBeUndefined();
  });

  it("treats forge 5xx and 429 as transient, 4xx as permanent", () => {
    expect(classifyError(forgeError(502, "bad gateway"))).toEqual({ kind: "transient", why: "forge answered 502" });
    expect(classifyError(forgeError(429, "slow down", { retryAfterMs: 7_000 }))).toEqual({
      kind: "transient",
      why: "forge answered 429",
      retryAfterMs: 7_000,
    });
    expect(classifyError(forgeError(404, "nope"))).toEqual({ kind: "permanent", why: "nope" });
    expect(classifyError(Object.assign(new Error("x"), { code: "ECONNRESET" })).kind).toBe("transient");
    expect(classifyError(new Error("fatal: Could not resolve host: example.com")).kind).toBe("transient");
  });

  it("follows the forge client's verdict: rate-limited 403s and unanswered calls are transient", () => {
    const answer = (status: number, headers: Record<string, string>, forgeMessage = "") =>
      ForgeApiError.fromAnswer(`[forge] github GET /x answered ${status}`, {
        forge: "github",
        method: "GET",
        url: "/x",
        status,
        headers,
        forgeMessage,
      });
    expect(classifyError(answer(403, { "retry-after": "30" }))).toEqual({
      kind: "transient",
      why: "forge answered 403",
      retryAfterMs: 30_000,
    });
    expect(classifyError(answer(403, {}, "You have exceeded a secondary rate limit")).kind).toBe("transient");
    expect(classifyError(answer(403, {}, "Resource not accessible by integration"))).toEqual({
      kind: "permanent",
      why: "[forge] github GET /x answered 403",
    });
    expect(classifyError(answer(503, { "retry-after": "2" }))).toMatchObject({
      kind: "transient",
      retryAfterMs: 2_000,
    });
    const offline = new ForgeApiError("[forge] gitea GET /x failed: fetch failed", {
      forge: "gitea",
      method: "GET",
      url: "/x",
      transient: true,
    });
    expect(classifyError(offline)).toEqual({ kind: "transient", why: "forge unreachable" });
    expect(
      classifyError(new ForgeApiError("bad key", { forge: "github", method: "token", url: "", transient: false })),
    ).toEqual({ kind: "permanent", why: "bad key" });
  });

  it("reads no status or headers from errors that are not a ForgeApiError", () => {
    const lookalike = Object.assign(new Error("slow down"), {
      status: 429,
      retryAfterMs: 7_000,
      response: { headers: { "retry-after": "7" } },
    });
    expect(classifyError(lookalike)).toEqual({ kind: "permanent", why: "slow down" });
  });

  it("treats a git server's 5xx/429 and a git call past its timeout as transient, other git failures as permanent", () => {
    const git = (why: string, stderr: string) =>
      new Error(
        `[workspace] \`git push --force-with-lease -- https://x/a.git HEAD:refs/heads/b\` failed (${why}): ${stderr}`,
      );
    expect(
      classifyError(
        git("exit code 128", "fatal: unable to access 'https://x/a.git/': The requested URL returned error: 503"),
      ),
    ).toEqual({ kind: "transient", why: "git server answered 503" });
    expect(classifyError(git("exit code 128", "The requested URL returned error: 429")).kind).toBe("transient");
    expect(classifyError(git("timed out after 300000 ms", "(no output)"))).toEqual({
      kind: "transient",
      why: "git timed out",
    });
    expect(
      classifyError(git("exit code 128", "fatal: Failed to connect to x port 443 after 3 ms: Couldn't connect")).kind,
    ).toBe("transient");
    expect(classifyError(git("exit code 128", "The requested URL returned error: 403")).kind).toBe("permanent");
    expect(classifyError(git("exit code 1", "! [rejected] HEAD -> b (stale info)")).kind).toBe("permanent");
  });

  it("backs off exponentially, never below Retry-After", () => {
    expect([1, 2, 3].map((n) => backoffMs(n, 1_000))).toEqual([1_000, 2_000, 4_000]);
    expect(backoffMs(1, 1_000, 5_000)).toBe(5_000);
    expect(backoffMs(40, 1_000)).toBe(3_600_000);
  });
});
