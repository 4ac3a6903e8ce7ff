import { describe, expect, it } from "vitest";
import { figures } from "./figures";
import { renderMarkdown, renderTable } from "./harness/report";
import { runFigures } from "./harness/run-figures";

// A quick run of the whole bench harness on tiny sizes (npm run bench does the real sizes).
// Figures run concurrently here, which would spoil real numbers but is fine for checking that
// every figure runs end to end against the real parts and yields finite positive numbers.
describe("bench harness (smoke)", () => {
  it("measures every figure and reports finite positive numbers", async () => {
    const runs = await Promise.all(figures.map((figure) => runFigures([figure], { size: "smoke" })));
    const results = runs.flatMap((r) => r.results);
    const failed = runs.flatMap((r) => r.failed);
    const notMeasured = results.filter((r) => r.status === "not measured").map((r) => `${r.id}: ${r.reason}`);
    expect(notMeasured).toEqual([]);
    expect(failed).toEqual([]);
    expect(results.map((r) => r.id)).toEqual(figures.map((f) => f.id));
    for (const result of results) {
      const values = Object.entries(result.metrics);
      expect(values.length, `${result.id} has no metrics`).toBeGreaterThan(0);
      for (const [name, value] of values) {
        // CPU figures come from /proc clock ticks (10 ms): a tiny smoke run may honestly use 0 ticks.
        // Counts of bad events (lost deliveries, overlapping agents…) are honestly 0 when all is well.
        const ok = /Cpu(UsPerReq|Ms|Pct)$|Count$/.test(name) ? value >= 0 : value > 0;
        expect(Number.isFinite(value) && ok, `${result.id}.${name} = ${value}`).toBe(true);
      }
      expect(result.headline).not.toBe("");
    }
    const machine = runs[0]!.machine;
    expect(renderTable(results, machine)).toContain("5. Parser throughput");
    expect(renderMarkdown(results, machine, new Date(0))).toContain(`${machine.cores} cores`);
  }, 90_000);
});
