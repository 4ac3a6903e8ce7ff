import type { MachineInfo } from "./machine";

/** How big a run is: `full` for `npm run bench`, `smoke` for the quick check in `npm test`. */
export type BenchSize = "full" | "smoke";

/** What every figure receives. */
export interface FigureContext {
  size: BenchSize;
  machine: MachineInfo;
  /** Progress notes to stderr; silent in the smoke test. */
  note: (message: string) => void;
  /** Temporary directory owned by this bench run (removed at the end). */
  tmpDir: string;
}

/** Outcome of one figure. `metrics` holds only measured numbers, never placeholders. */
export interface FigureResult {
  id: string;
  title: string;
  method: string;
  target: string;
  status: "met" | "missed" | "not measured";
  /** One line for the printed table: the headline numbers. */
  headline: string;
  /** Why not measured (the figure failed), or what bounds a missed target. */
  reason?: string;
  /** Every measured number (ms, req/s, MB/s, %…), keyed by a stable name. */
  metrics: Record<string, number>;
  /** Markdown lines with the full breakdown (per-run tables). */
  details: string[];
  durationMs: number;
}

/** What a figure's run returns; `method` overrides the static one when sizes matter. */
export type FigureOutcome = Omit<FigureResult, "id" | "title" | "target" | "durationMs" | "method"> & {
  method?: string;
};

/** A benchmark figure: static description plus a function of the context. */
export interface Figure {
  id: string;
  title: string;
  method: string;
  target: string;
  run(ctx: FigureContext): Promise<FigureOutcome>;
}
