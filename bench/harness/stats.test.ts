import { describe, expect, it } from "vitest";
import { median, percentile, summarize } from "./stats";

describe("bench stats", () => {
  it("takes nearest-rank percentiles of an unsorted sample", () => {
    const sample = [50, 10, 40, 20, 30, 100, 90, 80, 70, 60];
    expect(percentile(sample, 50)).toBe(50);
    expect(percentile(sample, 95)).toBe(100);
    expect(percentile(sample, 10)).toBe(10);
    expect(percentile([7], 99)).toBe(7);
  });

  it("interpolates the median of an even sample", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([3, 1, 2])).toBe(2);
  });

  it("refuses to summarise an empty sample rather than invent a number", () => {
    expect(() => summarize([])).toThrow(/empty sample/);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });

  it("summarises min, percentiles, max and mean", () => {
    const s = summarize(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(s).toMatchObject({ n: 200, min: 1, p50: 100, p95: 190, p99: 198, max: 200, mean: 100.5 });
  });
});
