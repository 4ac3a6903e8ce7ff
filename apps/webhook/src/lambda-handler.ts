import { type APIGatewayProxyResult, handle, type LambdaContext, type LambdaEvent } from "hono/aws-lambda";
import { type DepsFactory, lazyApp } from "./fetch-handler";

/** An AWS Lambda handler for API Gateway (v1/v2), ALB or function-URL events. */
export type LambdaHandler = (event: LambdaEvent, context?: LambdaContext) => Promise<APIGatewayProxyResult>;

/** Wraps the app with `hono/aws-lambda`; deps and the Redis connection are created once per warm container. */
export function createLambdaHandler(getDeps: DepsFactory): LambdaHandler {
  const app = lazyApp(getDeps);
  let handler: LambdaHandler | undefined;
  return async (event, context) => {
    const built = await app();
    handler ??= handle(built);
    return handler(event, context);
  };
}
