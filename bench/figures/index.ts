import type { Figure } from "../harness/figure";
import { ingestFigure } from "./ingest";
import { parserFigure } from "./parser";

/** Every figure, in report order. */
export const figures: readonly Figure[] = [ingestFigure, parserFigure];
