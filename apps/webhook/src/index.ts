export { type CommitResult, RedisUnavailableError } from "./commit-route";
export { createApp } from "./create-app";
export { createFetchHandler, type DepsFactory } from "./fetch-handler";
export { createLambdaHandler, type LambdaHandler } from "./lambda-handler";
export { MAX_BODY_BYTES } from "./read-body";
export { type Route, routeEvent } from "./route-event";
export { type NodeServer, serveNode } from "./serve-node";
export { signPayload, verifySignature } from "./verify-signature";
export type { WebhookDeps } from "./webhook-deps";
