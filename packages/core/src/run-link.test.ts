import { describe, expect, it } from "vitest";
import { signedRunUrl, signRunLink, verifyRunLink } from "./run-link";

const SECRET = "a-link-secret-of-at-least-32-chars!!";

describe("run links", () => {
  const now = Date.UTC(2026, 0, 1);
  const exp = String(now / 1000 + 3600);
  const sig = signRunLink("r1", Number(exp), SECRET);

  it("opens the run it was signed for until it expires", () => {
    expect(verifyRunLink("r1", sig, exp, SECRET, now)).toBe("ok");
    expect(verifyRunLink("r1", sig, exp, SECRET, now + 3_600_000)).toBe("expired");
  });

  it("refuses another run, another expiry, another secret, a flipped digit, or garbage", () => {
    expect(verifyRunLink("r2", sig, exp, SECRET, now)).toBe("bad");
    expect(verifyRunLink("r1", sig, String(Number(exp) + 1), SECRET, now)).toBe("bad");
    expect(verifyRunLink("r1", sig, exp, `${SECRET}x`, now)).toBe("bad");
    expect(verifyRunLink("r1", `${sig.slice(0, -1)}${sig.endsWith("0") ? "1" : "0"}`, exp, SECRET, now)).toBe("bad");
    for (const [s, e] of [
      [undefined, exp],
      [sig, undefined],
      [sig.toUpperCase(), exp],
      [sig, "1e9"],
      [sig, "-1"],
      ["zz", exp],
    ])
      expect(verifyRunLink("r1", s, e, SECRET, now)).toBe("bad");
  });

  it("builds the page URL with an expiry rounded up to the hour (one link per comment, not per edit)", () => {
    const a = signedRunUrl("https://fh.example/", "r 1", SECRET, 7 * 86_400_000, now + 10);
    const b = signedRunUrl("https://fh.example", "r 1", SECRET, 7 * 86_400_000, now + 60_000);
    expect(a).toBe(b);
    const url = new URL(a);
    expect(url.pathname).toBe("/runs/r%201");
    expect(
      verifyRunLink("r 1", url.searchParams.get("sig") ?? "", url.searchParams.get("exp") ?? "", SECRET, now),
    ).toBe("ok");
  });
});
