/**
 * Structured logs and CloudWatch metrics (EMF records and count lines) for every function, from
 * Powertools. Metric names live here once, so the handlers that emit them, the stack's metric
 * filters and the dashboard that charts them agree.
 */
import { LogFormatter, LogItem, Logger } from "@aws-lambda-powertools/logger";
import type { LogAttributes, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { redactingReplacer } from "./redact.ts";

export const SERVICE_NAME = "alert-relay";
export const METRICS_NAMESPACE = "AlertRelay";

export const METRIC = {
  /** Alerts put on the queue by an adapter (dimension: source). */
  alertsAccepted: "AlertsAccepted",
  /** Webhook requests or invocations refused (dimensions: source, reason). */
  requestsRejected: "RequestsRejected",
  /** Requests answered 5xx because the queue would not take their alerts. */
  publishFailures: "PublishFailures",
  /** Events API v2 ingest: change events put on the queue (dimension: source). */
  changeEventsAccepted: "ChangeEventsAccepted",
  /** Events API v2 ingest: acknowledge events put on the queue, for the router to pass on (dimension: source). */
  acknowledgesAccepted: "AcknowledgesAccepted",
  /**
   * Router: alerts by what happened to them (dimension: outcome — delivered, grouped, held, heartbeat, deduplicated, suppressed, stale,
   * in_flight, retry, rejected);
   * change events (delivered, retry, rejected) and acknowledges (relayed, not_relayed, in_flight, retry, rejected) count here too.
   */
  routerOutcomes: "RouterOutcomes",
  /** Router: PagerDuty events accepted (dimension: action). */
  pagerDutyEvents: "PagerDutyEvents",
  /** Router: messages it put in the DLQ itself, with a reason (dimension: reason — malformed, rejected, exhausted). */
  deadLettered: "DeadLettered",
  /** Sweep: changes it delivered from the state table because their own queue message did not (lost, or failing past the grace period). */
  owedRecovered: "OwedRecovered",
  /** Router: firing episodes over before PagerDuty could be reached, so not paged after the fact (docs/faults.md). */
  unpagedEpisodes: "UnpagedEpisodes",
  /** Router: suppression window items that could not be read (each is ignored, never widened). */
  malformedWindows: "MalformedWindows",
  /** Router: beats recorded for a declared heartbeat (dimension: heartbeat). */
  heartbeatBeats: "HeartbeatBeats",
  /** Sweep: 1 per run for each declared heartbeat that is missing (dimension: heartbeat); alarm on it being > 0. */
  heartbeatsMissing: "HeartbeatsMissing",
} as const;

/**
 * The counters every alert moves, and the one dimension each carries. They are not EMF records
 * but count lines, `{"RouterOutcomes":3,"outcome":"deduplicated"}` (~45 bytes against an EMF
 * record's ~240), which the stack's metric filters turn into the same metrics in the same
 * namespace, without the `service` dimension (infra/constructs/pipeline-function.ts; issue 15:
 * log bytes per alert). Rarer metrics stay EMF records.
 */
export const COUNTED = {
  [METRIC.alertsAccepted]: "source",
  [METRIC.routerOutcomes]: "outcome",
  [METRIC.pagerDutyEvents]: "action",
  [METRIC.deadLettered]: "reason",
} as const;
export type CountedMetric = keyof typeof COUNTED;
export const isCounted = (name: string): name is CountedMetric => Object.hasOwn(COUNTED, name);

/** Powertools Metrics plus count lines (COUNTED), switched off with it (POWERTOOLS_METRICS_DISABLED, POWERTOOLS_DEV). */
export class RelayMetrics extends Metrics {
  count(name: CountedMetric, value: string, count = 1): void {
    if (this.isDisabled()) return;
    process.stdout.write(`${JSON.stringify({ [name]: count, [COUNTED[name]]: value })}\n`);
  }
}

export interface Telemetry {
  logger: Logger;
  metrics: RelayMetrics;
}

/**
 * Powertools' line minus what the log group already says: each function logs to its own group, so
 * its name, ARN and memory size, the service and the sampling rate were ~250 of the ~550 bytes of
 * every line (issue 15: log bytes per alert). The request id ties a line to its invocation;
 * cold_start is said when true. X-Ray is not enabled by the stack, so no trace id.
 */
class CompactLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const context = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        ...(context ? { requestId: context.awsRequestId } : {}),
        ...(context?.coldStart ? { cold_start: true } : {}),
      },
    }).addAttributes(additionalLogAttributes);
  }
}

export function createTelemetry(component: string, dimensions: Record<string, string> = {}): Telemetry {
  // Every log line passes the one redaction rule (redact.ts): no credential is ever written.
  const logger = new Logger({
    serviceName: SERVICE_NAME,
    persistentKeys: { component, ...dimensions },
    logFormatter: new CompactLogFormatter(),
    jsonReplacerFn: redactingReplacer,
  });
  // Metrics' own remarks ("No application metrics to publish" after every sweep and many router
  // batches) are not warnings for an operator: they go to our logger at debug level.
  const toDebug = (...args: unknown[]) => logger.debug(args.map(String).join(" "));
  const metrics = new RelayMetrics({
    namespace: METRICS_NAMESPACE,
    serviceName: SERVICE_NAME,
    defaultDimensions: dimensions,
    logger: {
      trace: toDebug,
      debug: toDebug,
      info: toDebug,
      warn: toDebug,
      error: (...args: unknown[]) => logger.error(args.map(String).join(" ")),
    },
  });
  return { logger, metrics };
}

/** Counts one event under an extra dimension (e.g. the rejection reason) without touching the shared set. */
export function countWithDimension(metrics: Metrics, name: string, dimension: string, value: string, count = 1): void {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, count);
}

/** Count lines (COUNTED) summed and written at `publish()`: one line per value an invocation saw, not one per message. */
export class DimensionCounts {
  private readonly counts = new Map<string, { name: CountedMetric; value: string; count: number }>();

  private readonly metrics: RelayMetrics;

  constructor(metrics: RelayMetrics) {
    this.metrics = metrics;
  }

  add(name: CountedMetric, value: string, count = 1): void {
    const key = JSON.stringify([name, value]);
    const entry = this.counts.get(key);
    if (entry) entry.count += count;
    else this.counts.set(key, { name, value, count });
  }

  publish(): void {
    for (const { name, value, count } of this.counts.values()) this.metrics.count(name, value, count);
    this.counts.clear();
  }
}

export { MetricUnit };
