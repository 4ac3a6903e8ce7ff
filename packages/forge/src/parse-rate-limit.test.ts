import { describe, expect, it } from "vitest";
import { parseRateLimit, parseRetryAfter } from "./parse-rate-limit";

const NOW = Date.parse("2025-01-01T12:00:00Z");
const epoch = (offsetSec: number) => String(Math.floor(NOW / 1000) + offsetSec);

describe("parseRetryAfter", () => {
  it.each([
    ["Retry-After in seconds", { "retry-after": "30" }, 30_000],
    ["fractional seconds", { "retry-after": "1.5" }, 1_500],
    ["zero seconds", { "retry-after": "0" }, 0],
    ["padded seconds", { "retry-after": " 7 " }, 7_000],
    ["a numeric header value (Octokit records)", { "retry-after": 4 }, 4_000],
    ["an HTTP-date in the future", { "retry-after": "Wed, 01 Jan 2025 12:00:42 GMT" }, 42_000],
    ["an HTTP-date in the past", { "retry-after": "Wed, 01 Jan 2025 11:00:00 GMT" }, 0],
    ["garbage", { "retry-after": "soon" }, undefined],
    ["a negative number", { "retry-after": "-1" }, undefined],
    ["hex", { "retry-after": "0x10" }, undefined],
    ["an empty header", { "retry-after": "" }, undefined],
    ["no headers at all", {}, undefined],
    [
      "x-ratelimit-reset with remaining 0 (+1 s)",
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": epoch(60) },
      61_000,
    ],
    ["a reset in the past", { "x-ratelimit-remaining": "0", "x-ratelimit-reset": epoch(-60) }, 1_000],
    ["a reset while requests remain", { "x-ratelimit-remaining": "12", "x-ratelimit-reset": epoch(60) }, undefined],
    ["remaining 0 without a reset", { "x-ratelimit-remaining": "0" }, undefined],
    ["a garbage reset", { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "later" }, undefined],
    [
      "Retry-After before the reset",
      { "retry-after": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": epoch(600) },
      5_000,
    ],
    [
      "the reset when Retry-After is garbage",
      { "retry-after": "soon", "x-ratelimit-remaining": "0", "x-ratelimit-reset": epoch(10) },
      11_000,
    ],
  ])("%s", (_name, headers, expected) => {
    expect(parseRetryAfter(headers, NOW)).toBe(expected);
  });

  it("reads fetch Headers as well as Octokit's records", () => {
    expect(parseRetryAfter(new Headers({ "Retry-After": "3" }), NOW)).toBe(3_000);
    expect(parseRetryAfter(new Headers(), NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});

describe("parseRateLimit", () => {
  it.each([
    ["a bare 429", 429, {}, "", { rateLimited: true }],
    ["a 429 with Retry-After", 429, { "retry-after": "2" }, "", { rateLimited: true, retryAfterMs: 2_000 }],
    [
      "a 403 with Retry-After (a proxy, or GitHub's secondary limit)",
      403,
      { "retry-after": "60" },
      "",
      {
        rateLimited: true,
        retryAfterMs: 60_000,
      },
    ],
    [
      "GitHub's primary limit (403, remaining 0)",
      403,
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": epoch(30) },
      "API rate limit exceeded",
      {
        rateLimited: true,
        retryAfterMs: 31_000,
      },
    ],
    [
      "GitHub's secondary limit without Retry-After",
      403,
      {},
      "You have exceeded a secondary rate limit.",
      {
        rateLimited: true,
      },
    ],
    ["a 403 with a garbage Retry-After", 403, { "retry-after": "soon" }, "Forbidden", { rateLimited: false }],
    [
      "a permission 403",
      403,
      { "x-ratelimit-remaining": "4999" },
      "Resource not accessible by integration",
      {
        rateLimited: false,
      },
    ],
    [
      "a 503 with Retry-After (not a limit, but a wait)",
      503,
      { "retry-after": "10" },
      "",
      {
        rateLimited: false,
        retryAfterMs: 10_000,
      },
    ],
    ["a 404", 404, {}, "Not Found", { rateLimited: false }],
  ])("%s", (_name, status, headers, message, expected) => {
    expect(parseRateLimit({ status, headers, message }, NOW)).toEqual(expected);
  });
});
