import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLineSplitter } from "./line-splitter";

function split(chunks: string[], max?: number): string[] {
  const lines: string[] = [];
  const splitter = createLineSplitter((l) => lines.push(l), max);
  for (const c of chunks) splitter.push(c);
  splitter.end();
  return lines;
}

describe("createLineSplitter", () => {
  it("joins partial chunks, strips CRLF and emits a final unterminated line", () => {
    expect(split(["a", "b\r\nc", "\n\nd"])).toEqual(["ab", "c", "", "d"]);
  });

  it("emits nothing extra for input that ends with a newline", () => {
    expect(split(["x\n"])).toEqual(["x"]);
    expect(split([])).toEqual([]);
  });

  it("cuts a line longer than the maximum and resynchronises at the next newline", () => {
    expect(split(["abc", "defgh", "ij\nok\n"], 4)).toEqual(["abcd", "ok"]);
  });

  it("splits any chunking of the input like String.split (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", "\n", "\r\n", "é")),
        fc.array(fc.nat(), { maxLength: 5 }),
        (parts, cuts) => {
          const text = parts.join("");
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let last = 0;
          for (const p of points) {
            chunks.push(text.slice(last, p));
            last = p;
          }
          chunks.push(text.slice(last));
          const expected = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
          if (text.endsWith("\n") || text === "") expected.pop();
          expect(split(chunks)).toEqual(expected);
        },
      ),
    );
  });

  it("handles a multi-megabyte line in linear time", () => {
    const chunk = "x".repeat(64 * 1024);
    const started = performance.now();
    const lines = split([...Array.from({ length: 64 }, () => chunk), "\n"]);
    expect(lines[0]).toHaveLength(64 * 64 * 1024);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
