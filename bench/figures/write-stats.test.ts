import { describe, expect, it } from "vitest";
import { maxInWindow, writeKind } from "./write-stats";

describe("write stats", () => {
  it("finds the most timestamps in any window, wherever the window starts", () => {
    expect(maxInWindow([], 60_000)).toBe(0);
    expect(maxInWindow([0, 59_999, 60_000, 61_000, 119_000], 60_000)).toBe(4);
    expect(maxInWindow([5, 1, 3], 2)).toBe(1);
  });

  it("names the kinds of forge writes", () => {
    expect(writeKind({ method: "POST", path: "/repos/o/r/issues/3/comments" })).toEqual({
      kind: "comment create",
      creates: true,
    });
    expect(writeKind({ method: "PATCH", path: "/repos/o/r/issues/comments/9" }).kind).toBe("comment edit");
    expect(writeKind({ method: "POST", path: "/repos/o/r/pulls" })).toEqual({ kind: "PR create", creates: true });
    expect(writeKind({ method: "DELETE", path: "/repos/o/r/issues/3/labels/agent%3Ax" })).toEqual({
      kind: "labels (DELETE)",
      creates: false,
    });
    expect(writeKind({ method: "PUT", path: "/repos/o/r/pulls/4/merge" }).kind).toBe("PUT /pulls/:n/merge");
  });
});
