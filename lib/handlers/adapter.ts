/**
 * The one factory behind every adapter's Lambda function. It answers webhooks (API Gateway HTTP
 * API v2 and Function URL events) and direct invocations (SNS, EventBridge, CloudWatch alarm
 * actions) with the same normalize-then-publish step; the adapter decides meaning, this decides
 * HTTP semantics: 401 bad token, 400 not JSON, 413 too large, 422 wrong shape, 503 queue down.
 */
import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { adapterNames, findAdapter } from "../adapters/registry.ts";
import type { Adapter } from "../adapters/types.ts";
import { createSqsPublisher, type AlertPublisher } from "../publish/sqs-publisher.ts";
import { METRIC, countWithDimension, createTelemetry, type Telemetry } from "../platform/observability.ts";
import { isAuthorized } from "../ingest/auth.ts";
import { bodyText, excerpt, header, json, publishAlerts } from "../ingest/common.ts";
import {
  DEFAULT_MAX_BODY_BYTES,
  normalizePayload,
  normalizeText,
  type InputRejection,
  type NormalizedPayload,
} from "../ingest/normalize-payload.ts";
import { webhookTokenFromEnv, type WebhookTokenSource } from "../ingest/webhook-token.ts";

export interface AdapterHandlerDeps extends Telemetry {
  publisher: AlertPublisher;
  webhookToken: WebhookTokenSource;
  env: Readonly<Record<string, string | undefined>>;
  now?: () => Date;
  maxBodyBytes?: number;
}

/** What a direct invocation returns (SNS and EventBridge ignore it; it helps when testing by hand). */
export interface InvocationResult {
  status: "accepted" | "ignored" | "rejected";
  alerts: number;
  message?: string;
}

export type AdapterEvent = APIGatewayProxyEventV2 | Record<string, unknown>;
export type AdapterResponse = APIGatewayProxyStructuredResultV2 | InvocationResult;

function isHttpEvent(event: unknown): event is APIGatewayProxyEventV2 {
  const candidate = event as Partial<APIGatewayProxyEventV2> | null;
  return typeof candidate?.requestContext?.http?.method === "string";
}

export function createAdapterHandler<Config>(adapter: Adapter<Config>, deps: AdapterHandlerDeps) {
  // Read settings once at cold start: a bad setting fails the deploy's first call loudly, not each alert.
  const config = adapter.config(deps.env);
  const now = deps.now ?? (() => new Date());
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const { logger, metrics } = deps;
  const acceptsInvocations = adapter.transports.some((transport) => transport !== "http");

  function rejected(rejection: InputRejection, raw: unknown): void {
    logger.warn("input rejected", { reason: rejection.reason, error: rejection.message, path: rejection.path, payload: excerpt(raw) });
    countWithDimension(metrics, METRIC.requestsRejected, "reason", rejection.reason);
  }

  async function handleHttp(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    if (event.requestContext.http.method !== "POST") {
      return json(405, { error: `use POST to send ${adapter.name} alerts` });
    }
    const token = await deps.webhookToken();
    if (token !== undefined && !isAuthorized(header(event, "authorization"), token)) {
      logger.warn("input rejected", { reason: "unauthorized", sourceIp: event.requestContext.http.sourceIp });
      countWithDimension(metrics, METRIC.requestsRejected, "reason", "unauthorized");
      return json(401, { error: "unauthorized" });
    }
    const text = bodyText(event);
    const result = normalizeText(adapter, text, { receivedAt: now().toISOString(), config, maxBytes: maxBodyBytes });
    if (!result.ok) {
      rejected(result, text);
      return json(result.status, { error: result.message, reason: result.reason, ...(result.path ? { path: result.path } : {}) });
    }
    return answerHttp(result);
  }

  async function answerHttp(result: NormalizedPayload): Promise<APIGatewayProxyStructuredResultV2> {
    // A notice may come with alerts too (e.g. Alertmanager dropped some of the group): always logged.
    if (result.notice) logger.info("adapter notice", { notice: result.notice, alerts: result.alerts.length });
    if (result.notice && result.alerts.length === 0) return json(200, { status: "ignored", message: result.notice });
    if (!(await publishAlerts(deps, adapter.name, result.alerts))) {
      return json(503, { error: "alerts could not be queued; retry the request" });
    }
    return json(202, { status: "accepted", alerts: result.alerts.length, ids: result.alerts.map((a) => a.id) });
  }

  async function handleInvocation(event: Record<string, unknown>): Promise<InvocationResult> {
    if (!acceptsInvocations) {
      throw new Error(`the ${adapter.name} adapter accepts webhooks only; invoke it through its HTTP endpoint`);
    }
    const result = normalizePayload(adapter, event, { receivedAt: now().toISOString(), config });
    if (!result.ok) {
      // Retrying cannot fix a malformed event, so it is logged whole (bounded) and counted, not thrown.
      rejected(result, event);
      return { status: "rejected", alerts: 0, message: result.message };
    }
    if (!(await publishAlerts(deps, adapter.name, result.alerts))) {
      // Thrown so that Lambda's async retries (and the SNS/EventBridge redrive behind them) try again.
      throw new Error(`${result.alerts.length} ${adapter.name} alerts could not be queued`);
    }
    if (result.alerts.length === 0) return { status: "ignored", alerts: 0, ...(result.notice ? { message: result.notice } : {}) };
    return { status: "accepted", alerts: result.alerts.length };
  }

  const core = async (event: AdapterEvent, _context: Context): Promise<AdapterResponse> =>
    isHttpEvent(event) ? handleHttp(event) : handleInvocation(event as Record<string, unknown>);

  return middy(core).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

/** The deployed wiring: queue from `ALERTS_QUEUE_URL`, token per webhook-token.ts, Powertools telemetry. */
export function createAdapterHandlerFromEnv(adapter: Adapter<unknown>, env: Readonly<Record<string, string | undefined>> = process.env) {
  const queueUrl = env.ALERTS_QUEUE_URL;
  if (!queueUrl) throw new Error("ALERTS_QUEUE_URL is not set: the adapter needs the URL of the alerts queue");
  const telemetry = createTelemetry("adapter", { source: adapter.name });
  const webhookToken = webhookTokenFromEnv(env);
  if (!env.WEBHOOK_TOKEN && !env.WEBHOOK_TOKEN_SECRET) {
    telemetry.logger.warn("webhook authentication is OFF: set WEBHOOK_TOKEN (local) or WEBHOOK_TOKEN_SECRET (AWS)");
  }
  return createAdapterHandler(adapter, {
    ...telemetry,
    env,
    webhookToken,
    publisher: createSqsPublisher({ sqs: new SQSClient({}), queueUrl }),
  });
}

/** The Lambda entry's handler: one entry serves every adapter, the stack's ADAPTER_NAME picks it. */
export function createNamedAdapterHandlerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env) {
  const name = env.ADAPTER_NAME ?? "";
  const adapter = findAdapter(name);
  if (!adapter) throw new Error(`ADAPTER_NAME="${name}" is not a registered adapter; known: ${adapterNames().join(", ")}`);
  return createAdapterHandlerFromEnv(adapter, env);
}
