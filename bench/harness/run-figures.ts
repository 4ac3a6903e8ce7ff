import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trackDir } from "./child";
import type { BenchSize, Figure, FigureResult } from "./figure";
import { type MachineInfo, machineInfo } from "./machine";

/** Options of one harness run. */
export interface RunFiguresOptions {
  size: BenchSize;
  /** Ids to run; all when empty. */
  only?: readonly string[];
  note?: (message: string) => void;
}

/** What a harness run produced; `failed` lists figures that threw. */
export interface BenchRun {
  machine: MachineInfo;
  results: FigureResult[];
  failed: string[];
}

/**
 * Runs figures one after another (never in parallel: each would steal the other's cores).
 * A figure that crashes is reported "not measured: the bench itself failed: <why>" and listed
 * in `failed`, so `npm run bench` and the smoke test fail.
 */
export async function runFigures(figures: readonly Figure[], options: RunFiguresOptions): Promise<BenchRun> {
  const machine = machineInfo();
  const note = options.note ?? (() => {});
  const results: FigureResult[] = [];
  const failed: string[] = [];
  for (const figure of figures) {
    if (options.only?.length && !options.only.includes(figure.id)) continue;
    const tmpDir = mkdtempSync(join(tmpdir(), `forgehand-bench-${figure.id}-`));
    const untrack = trackDir(tmpDir);
    const started = performance.now();
    note(`${figure.title}…`);
    try {
      const r = await figure.run({ size: options.size, machine, note: (m) => note(`  ${m}`), tmpDir });
      results.push({
        id: figure.id,
        title: figure.title,
        target: figure.target,
        ...r,
        method: r.method ?? figure.method,
        durationMs: performance.now() - started,
      });
    } catch (error) {
      failed.push(figure.id);
      const message = error instanceof Error ? error.message : String(error);
      note(`  ${figure.id} failed: ${error instanceof Error ? error.stack : message}`);
      results.push({
        id: figure.id,
        title: figure.title,
        method: figure.method,
        target: figure.target,
        status: "not measured",
        headline: "",
        reason: `the bench itself failed: ${message}`,
        metrics: {},
        details: [],
        durationMs: performance.now() - started,
      });
    } finally {
      rmSync(tmpDir, { recursive: true, force: true });
      untrack();
    }
  }
  return { machine, results, failed };
}
