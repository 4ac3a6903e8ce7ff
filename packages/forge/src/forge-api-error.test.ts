import { describe, expect, it } from "vitest";
import { ForgeApiError, isNetworkFailure, throwingForgeApiErrors, toForgeApiError } from "./forge-api-error";
import { fromOctokitError } from "./from-octokit-error";

const at = { forge: "github", method: "GET", url: "https://api.github.com/repos/acme/app" } as const;
const refused = () =>
  new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });

describe("ForgeApiError", () => {
  it.each([
    ["no answer", {}, { transient: true, rateLimited: false }],
    ["a 500", { status: 500 }, { transient: true, rateLimited: false }],
    ["a 503", { status: 503 }, { transient: true, rateLimited: false }],
    ["a 429", { status: 429 }, { transient: true, rateLimited: true }],
    ["a rate-limited 403", { status: 403, rateLimited: true }, { transient: true, rateLimited: true }],
    ["a plain 403", { status: 403 }, { transient: false, rateLimited: false }],
    ["a 404", { status: 404 }, { transient: false, rateLimited: false }],
    ["no answer, said permanent", { transient: false }, { transient: false, rateLimited: false }],
  ])("is transient or not by default: %s", (_name, init, expected) => {
    expect(new ForgeApiError("x", { ...at, ...init })).toMatchObject(expected);
  });

  it("takes the rate-limit fields from an answer's headers", () => {
    const e = ForgeApiError.fromAnswer("[forge] gitea PATCH /x answered 403: slow", {
      forge: "gitea",
      method: "PATCH",
      url: "/x",
      status: 403,
      headers: new Headers({ "retry-after": "2" }),
    });
    expect(e).toMatchObject({ status: 403, rateLimited: true, retryAfterMs: 2_000, transient: true });
    expect(e.name).toBe("ForgeApiError");
  });
});

describe("toForgeApiError", () => {
  it("makes an unanswered call transient only when the network failed", () => {
    expect(isNetworkFailure(refused())).toBe(true);
    expect(isNetworkFailure(Object.assign(new Error("x"), { code: "ETIMEDOUT" }))).toBe(true);
    expect(isNetworkFailure(new DOMException("aborted", "AbortError"))).toBe(true);
    expect(isNetworkFailure(new TypeError("x is not a function"))).toBe(false);
    const offline = toForgeApiError(refused(), at);
    expect(offline).toMatchObject({ status: undefined, transient: true, retryAfterMs: undefined });
    expect(offline.message).toBe("[forge] github GET https://api.github.com/repos/acme/app failed: fetch failed");
    expect(offline.cause).toBeInstanceOf(TypeError);
    expect(toForgeApiError(new Error("invalid private key"), at)).toMatchObject({ transient: false });
    const same = new ForgeApiError("x", { ...at, status: 404 });
    expect(toForgeApiError(same, at)).toBe(same);
  });

  it("guards every method of a client", async () => {
    const client = throwingForgeApiErrors("gitea", {
      forge: "gitea",
      async ok() {
        return 1;
      },
      async broken(): Promise<number> {
        throw new Error("boom");
      },
    });
    expect(client.forge).toBe("gitea");
    expect(await client.ok()).toBe(1);
    await expect(client.broken()).rejects.toMatchObject({
      name: "ForgeApiError",
      message: "[forge] gitea broken failed: boom",
      status: undefined,
      transient: false,
    });
  });
});

describe("fromOctokitError", () => {
  const request = { method: "GET", url: "https://api.github.com/repos/acme/app" };

  it("reads an answer's status, message and rate-limit headers", () => {
    const raw = Object.assign(new Error("You have exceeded a secondary rate limit - https://docs.github.com"), {
      status: 403,
      request,
      response: { url: request.url, headers: { "retry-after": "60" }, data: {} },
    });
    const e = fromOctokitError(raw, request);
    expect(e).toBeInstanceOf(ForgeApiError);
    expect(e).toMatchObject({ status: 403, rateLimited: true, retryAfterMs: 60_000, transient: true, cause: raw });
    expect(e.message).toMatch(/^\[forge\] github GET https:\/\/api\.github\.com\/repos\/acme\/app answered 403: You/);
  });

  it("turns Octokit's status 500 without a response (fetch failed, aborted) into no answer", () => {
    const raw = Object.assign(new Error("connect ECONNREFUSED"), { status: 500, request, cause: refused() });
    expect(fromOctokitError(raw, request)).toMatchObject({ status: undefined, transient: true });
    const aborted = Object.assign(new DOMException("aborted", "AbortError"), { status: 500 });
    expect(fromOctokitError(aborted, request)).toMatchObject({ status: undefined, transient: true });
  });

  it("keeps a failure that is not a request error permanent", () => {
    expect(fromOctokitError(new Error("secretOrPrivateKey must be an asymmetric key"), request)).toMatchObject({
      status: undefined,
      transient: false,
    });
  });
});
