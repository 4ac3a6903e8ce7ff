export {
  countToolOutputs,
  cwdOf,
  type OpenAiServer,
  type OpenAiServerOptions,
  startOpenAiServer,
} from "./openai-server";
export { applyPatchScript, sequenceReplies, shellLoopScript } from "./scripts";
export type {
  RecordedResponsesRequest,
  Reply,
  ReplyContext,
  ReplyScript,
  ResponsesRequest,
  ResponseUsage,
} from "./types";
