import { type ForgeId, issueKey } from "@forgehand/core";
import { decodeLabelSet, deliveryKey, labelSetKey, readPrIssue } from "@forgehand/queue";
import { type BodyBudget, BodyBudgetError, type BodyReservation, BodyTimeoutError } from "./body-budget";
import { type CommitTarget, commitRoute, RedisUnavailableError } from "./commit-route";
import { decodePayload, parsePayloadJson } from "./decode-payload";
import { BadDeliveryError, type HeaderLookup, readDeliveryHeaders } from "./delivery-headers";
import { normaliseEvent } from "./normalise-event";
import { BodyTooLargeError, MAX_BODY_BYTES, readBody } from "./read-body";
import { type NodeBody, readNodeBody } from "./read-node-body";
import { needsLabelDiff, routeEvent } from "./route-event";
import { isSignatureShaped, verifySignature } from "./verify-signature";
import type { WebhookDeps } from "./webhook-deps";
import type { DeliveryOutcome, WebhookMetrics } from "./webhook-metrics";

/** What the delivery handler closes over. */
export interface DeliveryContext {
  deps: WebhookDeps;
  target: CommitTarget;
  metrics: WebhookMetrics;
  /** @defaultValue MAX_BODY_BYTES (25 MiB) */
  maxBodyBytes?: number;
  /** Bytes of all bodies being read at once, shared by every delivery of the app. */
  budget: BodyBudget;
  /** How long one body may take to arrive. @defaultValue DEFAULT_BODY_TIMEOUT_MS (10 s) */
  bodyTimeoutMs?: number;
}

/** Seconds a client is asked to wait when the in-flight cap is reached. */
const RETRY_AFTER_SECONDS = 5;

const SECRET_ENV = { github: "GITHUB_WEBHOOK_SECRET", gitea: "GITEA_WEBHOOK_SECRET" } as const;

/** Header lookup over Node's already-lowercased header object, without building a `Headers`. */
function nodeHeaders(node: NodeBody): HeaderLookup {
  return {
    get(name) {
      const value = node.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
  };
}

function answer(status: number, body: Record<string, unknown>, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...extra } });
}

function declaredLength(value: string | null): number | undefined {
  const n = Number(value ?? Number.NaN);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * One delivery, checked in SPEC order, cheapest first and nothing read that need not be: 400 headers,
 * 401 missing secret or signature header, 413 declared size, 503 in-flight cap — all before a byte of
 * body — then the body (413 past the limit, 503 past the cap, 408 too slow), 400 shape, 401 signature,
 * then parse → route → one MULTI. The signature is verified over the raw (or, for Gitea form mode,
 * decoded) bytes before any JSON parsing of untrusted input.
 */
export async function handleDelivery(
  ctx: DeliveryContext,
  forge: ForgeId,
  req: Request,
  /** Node's request under @hono/node-server, unread: its body and headers are read directly (cheaper). */
  node?: NodeBody,
): Promise<Response> {
  const { deps, metrics } = ctx;
  const done = (
    outcome: DeliveryOutcome,
    status: number,
    body: Record<string, unknown>,
    extra?: Record<string, string>,
  ) => {
    metrics.delivery(forge, outcome);
    return answer(status, body, extra);
  };
  let log = deps.logger.child({ forge });
  let reservation: BodyReservation | null | undefined;
  try {
    const limit = ctx.maxBodyBytes ?? MAX_BODY_BYTES;
    const reqHeaders = node ? nodeHeaders(node) : req.headers;
    const headers = readDeliveryHeaders(forge, reqHeaders);
    log = log.child({ deliveryId: headers.deliveryId, event: headers.event });
    const secret = deps.secrets[forge];
    if (!secret) {
      log.warn("delivery refused: no webhook secret configured", { fix: `set ${SECRET_ENV[forge]}` });
      return done("unauthorized", 401, {
        error: `[webhook] no ${forge} webhook secret is configured (${SECRET_ENV[forge]})`,
      });
    }
    // An unsigned or malformed signature can never verify: refuse before reading (or holding) the body.
    if (!isSignatureShaped(headers.signature)) {
      log.warn("delivery refused: no usable signature header", { signed: headers.signature !== "" });
      return done("unauthorized", 401, {
        error: headers.signature
          ? "[webhook] signature is not a sha256 hex digest"
          : "[webhook] delivery is not signed",
      });
    }
    const declared = declaredLength(reqHeaders.get("content-length"));
    if (declared !== undefined && declared > limit)
      throw new BodyTooLargeError(`[webhook] body of ${declared} bytes is over the ${limit}-byte limit`);
    reservation = ctx.budget.reserve(declared ?? 0);
    if (!reservation) throw new BodyBudgetError("[webhook] too many request bytes in flight; retry shortly");
    const read = { reservation, timeoutMs: ctx.bodyTimeoutMs };
    const raw = node ? await readNodeBody(node, limit, read) : await readBody(req, limit, read);
    const payload = decodePayload(forge, reqHeaders.get("content-type"), raw);
    if (!verifySignature(secret, payload.signed, headers.signature)) {
      log.warn("delivery refused: bad signature", { signed: headers.signature !== "" });
      return done("unauthorized", 401, {
        error: headers.signature ? "[webhook] signature does not match" : "[webhook] delivery is not signed",
      });
    }
    const event = normaliseEvent(headers, parsePayloadJson(payload.text));
    let storedLabels: string[] | null | undefined;
    let storedRaw: string | null | undefined;
    if (needsLabelDiff(event) && event.repo && event.issue) {
      const { redis, prefix } = ctx.target;
      const issue = issueKey({ repo: event.repo, number: event.issue.number });
      if (redis.status !== "ready")
        throw new RedisUnavailableError(`[webhook] Redis is not connected (${redis.status})`);
      const [labels, seen] = await redis
        .mget(labelSetKey(prefix, issue), deliveryKey(prefix, forge, headers.deliveryId))
        .catch((error: Error) => {
          throw new RedisUnavailableError(`[webhook] could not read the label set: ${error.message}`, { cause: error });
        });
      if (seen) return done("duplicate", 200, { duplicate: true });
      storedRaw = labels;
      storedLabels = decodeLabelSet(labels);
    }
    // Closing forgehand's own PR stops the run on the issue it was opened for (pr-issues.ts).
    let prForIssue: string | null | undefined;
    if (event.action === "closed" && event.issue?.isPr && event.repo) {
      const { redis, prefix } = ctx.target;
      const pr = issueKey({ repo: event.repo, number: event.issue.number });
      prForIssue = await readPrIssue(redis, prefix, pr).catch((error: Error) => {
        throw new RedisUnavailableError(`[webhook] could not read the PR's issue: ${error.message}`, { cause: error });
      });
    }
    const route = routeEvent(event, {
      config: deps.config,
      botLogins: deps.botLogins,
      storedLabels,
      now: Date.now(),
      ...(prForIssue ? { prForIssue } : {}),
    });
    const work = route.stageJobs.length + route.stops.length + (route.commandJob ? 1 : 0);
    if (work === 0 && !route.labelSet) {
      log.debug("delivery ignored", { reason: route.ignored });
      return done("ignored", 200, { ignored: route.ignored ?? "routes nowhere" });
    }
    const result = await commitRoute(ctx.target, forge, headers.deliveryId, route, storedRaw);
    if (result.duplicate) return done("duplicate", 200, { duplicate: true });
    metrics.enqueued("stage", route.stageJobs.length);
    metrics.enqueued("command", route.commandJob ? 1 : 0);
    metrics.enqueued("stop", route.stops.length);
    if (work === 0) return done("ignored", 200, { ignored: route.ignored ?? "routes nowhere" });
    log.info("delivery accepted", { issue: route.issue, jobs: result.jobIds, stops: route.stops.length });
    return done("accepted", 202, {
      delivery: headers.deliveryId,
      jobs: result.jobIds,
      ...(route.stops.length ? { stops: route.stops.map((s) => s.reason) } : {}),
    });
  } catch (error) {
    if (error instanceof BodyTooLargeError) return done("too_large", 413, { error: error.message });
    if (error instanceof BodyBudgetError) {
      log.warn("delivery deferred: in-flight body cap reached", { inFlight: ctx.budget.inFlight, max: ctx.budget.max });
      return done("busy", 503, { error: error.message }, { "retry-after": String(RETRY_AFTER_SECONDS) });
    }
    if (error instanceof BodyTimeoutError) return done("timeout", 408, { error: error.message });
    if (error instanceof BadDeliveryError) {
      log.warn("delivery rejected", { error: error.message });
      return done("bad_request", 400, { error: error.message });
    }
    if (error instanceof RedisUnavailableError) {
      log.error("delivery not taken: Redis unavailable", { error: error.message });
      return done("unavailable", 503, { error: error.message });
    }
    throw error;
  } finally {
    reservation?.release();
  }
}
