/**
 * PagerDuty-compatible ingest: `POST /v2/enqueue` and `POST /v2/change/enqueue` take Events API v2
 * bodies unchanged and answer as PagerDuty answers, so a tool that pages through PagerDuty today can
 * be pointed at alert-relay instead (its base URL) and gain windows, deduplication and routing.
 *
 *   202 {"status":"success","message":"Event processed","dedup_key":"<key>"}     alert events (acknowledges too)
 *   202 {"status":"success","message":"Change event processed"}                change events
 *   400 {"status":"invalid event","message":"Event object is invalid","errors":[...]}
 *   400 {"status":"Unrecognized object","message":"Event object format is unrecognized","errors":["JSON parse error"]}
 *   503 when the queue would not take the event: PagerDuty senders retry 5xx.
 *
 * The body's routing_key is the sender's credential: never stored, logged or forwarded. With a
 * webhook token configured it must equal the token (or an Authorization header must carry it);
 * otherwise the answer is PagerDuty's for a wrong key. Which PagerDuty service hears the event is
 * decided by alert-relay's routes, not by the key the sender used.
 *
 * Triggers and resolves go on the queue as normalized alerts; change events and acknowledges as
 * messages of their own kind (lib/messages/queue-message.ts), which the router sends on to PagerDuty.
 */
import middy from "@middy/core";
import { randomUUID } from "node:crypto";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { createSqsPublisher, type AlertPublisher } from "../publish/sqs-publisher.ts";
import { METRIC, MetricUnit, countWithDimension, createTelemetry, type Telemetry } from "../platform/observability.ts";
import { isAuthorized, sameSecret } from "../ingest/auth.ts";
import { bodyText, excerpt, header, json, publishAlerts } from "../ingest/common.ts";
import { DEFAULT_MAX_BODY_BYTES, parseJsonBody } from "../ingest/normalize-payload.ts";
import { webhookTokenFromEnv, type WebhookTokenSource } from "../ingest/webhook-token.ts";
import { createSqsMessagePublisher, type MessagePublisher } from "../ingest/pagerduty-events/message-publisher.ts";
import { describeKind, type QueueMessage } from "../messages/queue-message.ts";
import {
  ALERT_EVENTS_PATH,
  CHANGE_EVENTS_PATH,
  ERRORS,
  EVENTS_V2_SOURCE,
  isObject,
  readAlertEvent,
  readChangeEvent,
} from "../ingest/pagerduty-events/events-v2.ts";

export { ALERT_EVENTS_PATH, CHANGE_EVENTS_PATH } from "../ingest/pagerduty-events/events-v2.ts";

export interface PagerDutyEventsHandlerDeps extends Telemetry {
  publisher: AlertPublisher;
  /** Puts change events and acknowledges on the queue. */
  messagePublisher: MessagePublisher;
  webhookToken: WebhookTokenSource;
  now?: () => Date;
  maxBodyBytes?: number;
  /** The key for a trigger without dedup_key (default: 32 hex digits, like PagerDuty's). */
  newDedupKey?: () => string;
}

type Response = APIGatewayProxyStructuredResultV2;

export const ANSWERS = {
  accepted: (dedupKey: string) => json(202, { status: "success", message: "Event processed", dedup_key: dedupKey }),
  changeAccepted: () => json(202, { status: "success", message: "Change event processed" }),
  invalid: (errors: readonly string[]) => json(400, { status: "invalid event", message: "Event object is invalid", errors }),
  unrecognized: (error = "JSON parse error") =>
    json(400, { status: "Unrecognized object", message: "Event object format is unrecognized", errors: [error] }),
  notQueued: () => json(503, { status: "unavailable", message: "The event could not be queued; retry later" }),
} as const;

/** Which endpoint: the path's end, so a custom domain's base path in front of it does not matter. */
function endpointOf(event: APIGatewayProxyEventV2): "alert" | "change" | undefined {
  const path = (event.rawPath ?? event.requestContext.http.path ?? "").replace(/\/+$/, "");
  if (path.endsWith(CHANGE_EVENTS_PATH)) return "change";
  if (path.endsWith(ALERT_EVENTS_PATH)) return "alert";
  return undefined;
}

export function createPagerDutyEventsHandler(deps: PagerDutyEventsHandlerDeps) {
  const { logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const newDedupKey = deps.newDedupKey ?? (() => randomUUID().replaceAll("-", ""));

  function refuse(reason: string, answer: Response, details: Record<string, unknown>): Response {
    logger.warn("input rejected", { reason, ...details });
    countWithDimension(metrics, METRIC.requestsRejected, "reason", reason);
    return answer;
  }

  /** PagerDuty's answer for a wrong or missing key (400, not 401: senders built for PagerDuty expect it). */
  function unauthorized(event: APIGatewayProxyEventV2, endpoint: string, error: string): Response {
    return refuse("unauthorized", ANSWERS.invalid([error]), { sourceIp: event.requestContext.http.sourceIp, endpoint });
  }

  async function handleHttp(event: APIGatewayProxyEventV2): Promise<Response> {
    const endpoint = endpointOf(event);
    if (!endpoint) return json(404, { status: "not found", message: `POST events to ${ALERT_EVENTS_PATH} or ${CHANGE_EVENTS_PATH}` });
    if (event.requestContext.http.method !== "POST") return json(405, { status: "method not allowed", message: "use POST" });

    // Authenticate before the body where the request allows it: a wrong Authorization header is
    // refused unread. PagerDuty's own credential is the body's routing_key, so without a valid
    // header the body is read, bounded in size and depth first, and nothing unauthenticated is logged.
    const token = await deps.webhookToken();
    const authorization = header(event, "authorization");
    const authenticated = token === undefined || (authorization !== undefined && isAuthorized(authorization, token));
    if (!authenticated && authorization !== undefined) return unauthorized(event, endpoint, ERRORS.invalidRoutingKey);

    const text = bodyText(event);
    const parsed = parseJsonBody(text, maxBodyBytes);
    // The excerpt of a refused body is logged only once its sender is known (redacted all the same).
    const evidence = (value: unknown) => (authenticated ? { payload: excerpt(value) } : { bytes: text.length });
    if (!parsed.ok) {
      if (parsed.reason === "too_large")
        return refuse("too_large", ANSWERS.invalid([`Event object is too large: ${parsed.message}`]), { error: parsed.message });
      if (parsed.reason === "too_deep")
        return refuse("too_deep", ANSWERS.unrecognized(`Event object ${parsed.message.replace(/^body /, "")}`), { error: parsed.message });
      return refuse("not_json", ANSWERS.unrecognized(), { error: parsed.message, ...evidence(text) });
    }
    const body = parsed.value;
    if (!isObject(body)) return refuse("not_json", ANSWERS.unrecognized("Event object must be a JSON object"), evidence(body));

    if (!authenticated) {
      const key = body.routing_key;
      if (!(typeof key === "string" && key !== "" && sameSecret(key, token!))) {
        return unauthorized(
          event,
          endpoint,
          typeof key === "string" && key.trim() !== "" ? ERRORS.invalidRoutingKey : ERRORS.missing("routing_key"),
        );
      }
    }

    const receivedAt = now().toISOString();
    return endpoint === "change" ? handleChange(body, receivedAt) : handleAlert(body, receivedAt);
  }

  async function handleAlert(body: Record<string, unknown>, receivedAt: string): Promise<Response> {
    const result = readAlertEvent(body, { receivedAt, newDedupKey });
    if (!result.ok) return refuse("invalid_event", ANSWERS.invalid(result.errors), { errors: result.errors, payload: excerpt(body) });
    // The normalized contract has firing and resolved only: an acknowledge travels as a message of
    // its own, which the router passes on where the problem's trigger went (lib/router/acknowledge.ts).
    if (result.action === "acknowledge") {
      const { message, dedupKey } = result;
      return enqueue(message, ANSWERS.accepted(dedupKey), METRIC.acknowledgesAccepted, { acknowledgeId: message.id, dedupKey });
    }
    if (!(await publishAlerts(deps, EVENTS_V2_SOURCE, [result.alert], { action: result.action }))) return ANSWERS.notQueued();
    return ANSWERS.accepted(result.dedupKey);
  }

  async function handleChange(body: Record<string, unknown>, receivedAt: string): Promise<Response> {
    const result = readChangeEvent(body, { receivedAt });
    if (!result.ok) return refuse("invalid_event", ANSWERS.invalid(result.errors), { errors: result.errors, payload: excerpt(body) });
    return enqueue(result.message, ANSWERS.changeAccepted(), METRIC.changeEventsAccepted, { changeId: result.message.id });
  }

  /** Puts a change event or an acknowledge on the queue; answered `accepted` only once it is there. `ids` name it in the logs. */
  async function enqueue(message: QueueMessage, accepted: Response, metric: string, ids: Record<string, string>): Promise<Response> {
    const what = describeKind(message.kind);
    try {
      await deps.messagePublisher.publish(message);
    } catch (error) {
      logger.error(`${what} not queued`, { error: error as Error, ...ids });
      metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
      return ANSWERS.notQueued();
    }
    logger.info(`${what} queued`, ids);
    metrics.addMetric(metric, MetricUnit.Count, 1);
    return accepted;
  }

  const core = async (event: APIGatewayProxyEventV2, _context: Context): Promise<Response> => {
    if (typeof event?.requestContext?.http?.method !== "string") {
      throw new Error(`the PagerDuty Events API ingest accepts HTTP requests only (POST ${ALERT_EVENTS_PATH}, POST ${CHANGE_EVENTS_PATH})`);
    }
    return handleHttp(event);
  };

  return middy(core).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

/** The deployed wiring: queue from `ALERTS_QUEUE_URL`, token per webhook-token.ts, Powertools telemetry. */
export function createPagerDutyEventsHandlerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env) {
  const queueUrl = env.ALERTS_QUEUE_URL;
  if (!queueUrl) throw new Error("ALERTS_QUEUE_URL is not set: the Events API ingest needs the URL of the alerts queue");
  const telemetry = createTelemetry("ingest", { source: EVENTS_V2_SOURCE });
  if (!env.WEBHOOK_TOKEN && !env.WEBHOOK_TOKEN_SECRET) {
    telemetry.logger.warn(
      "webhook authentication is OFF: any routing_key is accepted; set WEBHOOK_TOKEN (local) or WEBHOOK_TOKEN_SECRET (AWS)",
    );
  }
  const sqs = new SQSClient({});
  return createPagerDutyEventsHandler({
    ...telemetry,
    webhookToken: webhookTokenFromEnv(env),
    publisher: createSqsPublisher({ sqs, queueUrl }),
    messagePublisher: createSqsMessagePublisher({ sqs, queueUrl }),
  });
}
