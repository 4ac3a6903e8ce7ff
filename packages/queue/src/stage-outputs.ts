import { capOutput } from "@forgehand/core";
import type { Redis } from "ioredis";

/** One finished stage's output on an issue. */
export interface StoredStageOutput {
  stage: string;
  runId: string;
  output: string;
  /** When the run ended (ms); the newest one is `{{previous.output}}`. */
  endedAt: number;
}

/** What the stages of one issue have produced, for the next stage's prompt. */
export interface IssueOutputs {
  /** The output of the last stage that finished on the issue. */
  previous?: StoredStageOutput;
  /** The latest output of each stage, by stage name. */
  byStage: Record<string, StoredStageOutput>;
}

/** The per-issue store of stage outputs (`{{previous.output}}`, `{{stages.<name>.output}}`), shared by every runner. */
export interface StageOutputStore {
  save(issue: string, entry: StoredStageOutput): Promise<void>;
  read(issue: string): Promise<IssueOutputs>;
}

/** Kept as long as run records: a stage started weeks later still sees the analysis. */
const OUTPUTS_TTL_S = 30 * 24 * 3600;

/**
 * One Redis hash per issue (`${prefix}:outputs:<issueKey>`), a field per stage holding its latest output as
 * JSON. Texts are capped (a hostile agent cannot grow Redis) and are expected redacted by the caller.
 */
export function createStageOutputStore(redis: Redis, prefix: string): StageOutputStore {
  const key = (issue: string) => `${prefix}:outputs:${issue}`;
  return {
    async save(issue, entry) {
      const value = JSON.stringify({ ...entry, output: capOutput(entry.output) });
      await redis.multi().hset(key(issue), entry.stage, value).expire(key(issue), OUTPUTS_TTL_S).exec();
    },
    async read(issue) {
      const hash = await redis.hgetall(key(issue));
      const byStage: Record<string, StoredStageOutput> = {};
      let previous: StoredStageOutput | undefined;
      for (const [stage, raw] of Object.entries(hash)) {
        let entry: StoredStageOutput;
        try {
          entry = JSON.parse(raw) as StoredStageOutput;
        } catch {
          continue;
        }
        if (typeof entry?.output !== "string" || typeof entry.endedAt !== "number") continue;
        byStage[stage] = { ...entry, stage };
        if (!previous || entry.endedAt > previous.endedAt) previous = byStage[stage];
      }
      return { byStage, ...(previous ? { previous } : {}) };
    },
  };
}
