export { type ModelServer, type ModelServerOptions, startModelServer } from "./model-server";
export { countToolResults, isMainLoopRequest, systemText, userText, workingDirectoryOf } from "./request-info";
export {
  byPromptScript,
  type LoopToolsOptions,
  loopToolsScript,
  pathInWorkdir,
  sequenceScript,
  silentScript,
  type WriteFileOptions,
  writeFileScript,
} from "./scripts";
export type { MessagesRequest, RecordedRequest, Script, ScriptContext, Turn, TurnUsage } from "./types";
