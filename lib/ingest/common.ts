/**
 * What the ingest handlers share: the adapters' (lib/handlers/adapter.ts) and the PagerDuty-compatible
 * one (lib/handlers/pagerduty-events.ts). HTTP answers and request reading, the bounded excerpt of a
 * refused payload for the log, and publishing alerts with its log line and metrics.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { NormalizedAlert } from "../alert/schema.ts";
import type { AlertPublisher } from "../publish/sqs-publisher.ts";
import { METRIC, MetricUnit, type Telemetry } from "../platform/observability.ts";
import { REDACTED, isSecretName, redactText, redactedJson } from "../platform/redact.ts";

/** An HTTP answer; an error answer passes the redaction rule, so it never echoes a credential back. */
export function json(statusCode: number, body: Record<string, unknown>): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: statusCode >= 400 ? redactedJson(body) : JSON.stringify(body),
  };
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

/** How much of a refused payload the log keeps. */
export const EXCERPT_CHARS = 8192;
/** Read past the cut before redacting, so a credential the cut would split is still recognized whole. */
const EXCERPT_LOOKAHEAD = 1024;

/**
 * Up to 8 KB of what was refused goes into the log, so a rejected payload can be recovered and
 * replayed: credentials redacted (lib/platform/redact.ts), and built without recursion, so a
 * 100,000-level document costs what 8 KB of it costs.
 */
export function excerpt(value: unknown): string {
  const text =
    typeof value === "string" ? value.slice(0, EXCERPT_CHARS + EXCERPT_LOOKAHEAD) : boundedJson(value, EXCERPT_CHARS + EXCERPT_LOOKAHEAD);
  const safe = redactText(text);
  return safe.length > EXCERPT_CHARS ? `${safe.slice(0, EXCERPT_CHARS)}…` : safe;
}

type Frame = { array: readonly unknown[]; at: number } | { object: Record<string, unknown>; keys: string[]; at: number };

/**
 * JSON text of a value, cut once it passes `limit` characters, with credential-named fields
 * replaced. Iterative (an explicit stack), so depth costs nothing but the characters it prints.
 * Hand-written because JSON.stringify recurses and cannot stop at a budget.
 */
export function boundedJson(value: unknown, limit: number): string {
  let out = "";
  const stack: Frame[] = [];
  const open = (item: unknown, key: string | undefined): void => {
    if (typeof item === "string") out += JSON.stringify(key !== undefined && isSecretName(key) ? REDACTED : item);
    else if (typeof item === "number") out += Number.isFinite(item) ? String(item) : "null";
    else if (typeof item === "boolean") out += String(item);
    else if (item === null || typeof item !== "object") out += "null";
    else if (Array.isArray(item)) {
      out += "[";
      stack.push({ array: item, at: 0 });
    } else {
      out += "{";
      stack.push({ object: item as Record<string, unknown>, keys: Object.keys(item), at: 0 });
    }
  };
  open(value, undefined);
  while (stack.length > 0 && out.length <= limit) {
    const frame = stack[stack.length - 1]!;
    if ("array" in frame) {
      if (frame.at === frame.array.length) {
        out += "]";
        stack.pop();
        continue;
      }
      if (frame.at > 0) out += ",";
      open(frame.array[frame.at++], undefined);
      continue;
    }
    // Keys whose value JSON would drop (undefined, functions) are skipped, as JSON.stringify does.
    while (frame.at < frame.keys.length && ["undefined", "function", "symbol"].includes(typeof frame.object[frame.keys[frame.at]!]))
      frame.at += 1;
    if (frame.at === frame.keys.length) {
      out += "}";
      stack.pop();
      continue;
    }
    const key = frame.keys[frame.at]!;
    out += `${out.endsWith("{") ? "" : ","}${JSON.stringify(key)}:`;
    frame.at += 1;
    open(frame.object[key], key);
  }
  return out;
}

/**
 * Puts alerts on the queue, logs and counts how it went (AlertsAccepted under `source`); false when
 * they could not be queued (the caller answers 503 or throws, so the sender retries). `logFields`
 * join the "alerts queued" line.
 */
export async function publishAlerts(
  deps: Telemetry & { publisher: AlertPublisher },
  source: string,
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
  // DEBUG: one line per webhook request is what the access log and AlertsAccepted already say;
  // the router logs each alert that changes something at PagerDuty (issue 15: log bytes per alert).
  logger.debug("alerts queued", {
    count: alerts.length,
    ...logFields,
    alertIds: alerts.map((a) => a.id),
    dedupKeys: alerts.map((a) => a.dedupKey),
  });
  metrics.count(METRIC.alertsAccepted, source, alerts.length);
  return true;
}
