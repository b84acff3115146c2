/**
 * What the ingest handlers share: the adapters' (adapter-handler.ts) and the PagerDuty-compatible
 * one (pagerduty-events/handler.ts). HTTP answers and request reading, the bounded excerpt of a
 * refused payload for the log, and publishing alerts with its log line and metrics.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { NormalizedAlert } from "../alert/schema.ts";
import type { AlertPublisher } from "../publish/sqs-publisher.ts";
import { METRIC, MetricUnit, type Telemetry } from "../runtime/observability.ts";

export function json(statusCode: number, body: Record<string, unknown>): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** A request header by name, whatever its case. */
export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** The request body as text (API Gateway base64-encodes bodies it takes for binary). */
export function bodyText(event: APIGatewayProxyEventV2): string {
  return event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : (event.body ?? "");
}

/** Up to 8 KB of what was refused goes into the log, so a rejected payload can be recovered and replayed. */
export function excerpt(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return text.length > 8192 ? `${text.slice(0, 8192)}…` : text;
}

/**
 * Puts alerts on the queue, logs and counts how it went; false when they could not be queued (the
 * caller answers 503 or throws, so the sender retries). `logFields` join the "alerts queued" line.
 */
export async function publishAlerts(
  deps: Telemetry & { publisher: AlertPublisher },
  alerts: readonly NormalizedAlert[],
  logFields: Record<string, unknown> = {},
): Promise<boolean> {
  const { logger, metrics } = deps;
  if (alerts.length === 0) return true;
  try {
    await deps.publisher.publish(alerts);
  } catch (error) {
    logger.error("alerts not queued", { error: error as Error, alertIds: alerts.map((a) => a.id) });
    metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
    return false;
  }
  logger.info("alerts queued", { count: alerts.length, ...logFields, alertIds: alerts.map((a) => a.id), dedupKeys: alerts.map((a) => a.dedupKey) });
  metrics.addMetric(METRIC.alertsAccepted, MetricUnit.Count, alerts.length);
  return true;
}
