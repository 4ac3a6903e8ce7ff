import type { Figure } from "../harness/figure";
import { codexParserFigure } from "./codex-parser";
import { crashStormFigure } from "./crash-storm";
import { dispatchFigure } from "./dispatch";
import { geminiParserFigure } from "./gemini-parser";
import { hostileMemoryFigure } from "./hostile-memory";
import { ingestFigure } from "./ingest";
import { parserFigure } from "./parser";
import { scaleFigure } from "./scale";
import { stopFigure } from "./stop";
import { writeBudgetFigure } from "./write-budget";

/** Every figure, in report order. */
export const figures: readonly Figure[] = [
  ingestFigure,
  dispatchFigure,
  stopFigure,
  scaleFigure,
  parserFigure,
  codexParserFigure,
  geminiParserFigure,
  hostileMemoryFigure,
  writeBudgetFigure,
  crashStormFigure,
];
