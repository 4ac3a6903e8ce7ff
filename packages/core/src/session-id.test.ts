import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidSessionIdError, isValidSessionId, resumeArgv, validateSessionId } from "./session-id";

const UUID = "3f1c2a9e-7b4d-4e21-9c55-0d6a8b1e2f30";

describe("validateSessionId", () => {
  it("accepts Claude's UUIDs and other 8–128 character ids of letters, digits and -", () => {
    expect(validateSessionId(UUID)).toBe(UUID);
    expect(validateSessionId("sess0001")).toBe("sess0001");
    expect(validateSessionId("a".repeat(128))).toBe("a".repeat(128));
  });

  const bad: [string, unknown][] = [
    ["a flag", "--dangerously-skip-permissions"],
    ["a short flag", "-pwned123"],
    ["too short", "abc-123"],
    ["too long", "a".repeat(129)],
    ["a space", "abcd efgh"],
    ["an =", "abcd=efgh"],
    ["a shell metacharacter", "abcdefgh;rm -rf"],
    ["a newline", "abcdefgh\n--x"],
    ["a path", "../../etc/passwd"],
    ["non-ASCII letters", "ѕеѕѕіоnіd"],
    ["empty", ""],
    ["not a string", 12345678],
  ];
  for (const [name, id] of bad) {
    it(`rejects ${name}, saying why and without echoing the id`, () => {
      expect(() => validateSessionId(id)).toThrow(InvalidSessionIdError);
      expect(() => validateSessionId(id)).toThrow(/refusing to resume/);
      if (typeof id === "string" && id.length > 0) expect(() => validateSessionId(id)).not.toThrow(id);
      expect(isValidSessionId(id)).toBe(false);
    });
  }

  it("accepts exactly what ^[A-Za-z0-9-]{8,128}$ accepts, minus a leading -", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (id) => {
        expect(isValidSessionId(id)).toBe(/^[A-Za-z0-9][A-Za-z0-9-]{7,127}$/.test(id));
      }),
      { numRuns: 500 },
    );
  });
});

describe("resumeArgv", () => {
  it("joins `--flag {sessionId}` into one `--flag=<id>` element", () => {
    expect(resumeArgv(["--resume", "{sessionId}"], UUID)).toEqual([`--resume=${UUID}`]);
    expect(resumeArgv(["--verbose", "--session-id", "{sessionId}", "-c"], UUID)).toEqual([
      "--verbose",
      `--session-id=${UUID}`,
      "-c",
    ]);
  });

  it("substitutes in place elsewhere (the id can't start with - so it is never a flag)", () => {
    expect(resumeArgv(["-r", "{sessionId}"], UUID)).toEqual(["-r", UUID]);
    expect(resumeArgv(["resume", "{sessionId}"], UUID)).toEqual(["resume", UUID]);
    expect(resumeArgv(["--session={sessionId}"], UUID)).toEqual([`--session=${UUID}`]);
  });

  it("refuses a planted id before building anything", () => {
    expect(() => resumeArgv(["--resume", "{sessionId}"], "--dangerously-skip-permissions")).toThrow(
      InvalidSessionIdError,
    );
    expect(() => resumeArgv(["--resume", "{sessionId}"], "x")).toThrow(/refusing to resume/);
  });
});
