import { capOutput, issueKey, type Logger, type Stage } from "@forgehand/core";
import type { ForgeClient } from "@forgehand/forge";
import type { StageJob, StageOutputStore } from "@forgehand/queue";
import { postStageOutput } from "./post-stage-output";
import type { StageResult } from "./stage-context";

/**
 * After a stage succeeded: its output becomes `{{previous.output}}` / `{{stages.<name>.output}}` for the
 * issue's next stages (stored before the lease is released, so a next stage waiting for it reads it),
 * and is posted where `stages[].output` says. Neither failing fails the run: the work is done.
 */
export async function finishStageOutput(input: {
  job: StageJob;
  stage: Stage;
  result: StageResult;
  forge: ForgeClient;
  outputs: StageOutputStore | undefined;
  redact: (text: string) => string;
  log: Logger;
}): Promise<void> {
  const { job, stage, result, log } = input;
  if (result.state !== "succeeded" || !result.output) return;
  const output = capOutput(input.redact(result.output));
  try {
    await input.outputs?.save(issueKey(job.ref), { stage: stage.name, runId: job.runId, output, endedAt: Date.now() });
  } catch (error) {
    log.warn("stage output not stored for later stages", { error });
  }
  try {
    await postStageOutput(stage.output, {
      forge: input.forge,
      ref: job.ref,
      stage: stage.name,
      runId: job.runId,
      output: result.output,
      redact: input.redact,
    });
  } catch (error) {
    log.warn("stage output not posted", { error });
  }
}
