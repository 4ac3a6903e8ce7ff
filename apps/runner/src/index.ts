export { type CommandCallbacks, createCommandCallbacks } from "./command-callbacks";
export { createRunner, type Runner, type RunnerDeps, type RunnerTimings } from "./create-runner";
export { enqueueStage } from "./enqueue-stage";
export type { RunGateFn, StageWorkspaces, StatusSink, StatusSinkFactory, SuperviseFn, Workspaces } from "./ports";
export { renderPrompt } from "./render-prompt";
