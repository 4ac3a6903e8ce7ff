export { type GeminiServer, type GeminiServerOptions, startGeminiServer } from "./gemini-server";
export { countFunctionResponses, declaredFunctions, geminiUserText, geminiWorkingDirectory } from "./request-info";
export {
  GEMINI_ARGS,
  GEMINI_BIN,
  type GeminiRun,
  geminiEnv,
  geminiSettings,
  type RunGeminiOptions,
  runGemini,
  writeGeminiSettings,
} from "./run-gemini";
export {
  geminiByPromptScript,
  geminiLoopToolsScript,
  geminiPathInWorkdir,
  geminiSequenceScript,
  geminiSilentScript,
  geminiWriteFileScript,
} from "./scripts";
export type {
  FunctionCall,
  GeminiRecordedRequest,
  GeminiScript,
  GeminiScriptContext,
  GeminiTurn,
  GeminiUsage,
  GenerateContentRequest,
} from "./types";
