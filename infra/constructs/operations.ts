/**
 * Watching the pipeline: alarms that reach PagerDuty through their own topic (never through the
 * pipeline they watch), and a dashboard of what came in, what went out, and what got stuck.
 * Metric names and dimensions come from lib/platform/observability.ts, where the handlers get them.
 */
import { Duration, SecretValue, Stack } from "aws-cdk-lib";
import type * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import * as cw from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME, isCounted } from "../../lib/platform/observability.ts";
import { AlarmTopic } from "./alarm-topic.ts";
import type { PipelineStorage } from "./storage.ts";

export interface OperationsProps {
  /** Every ops alarm's name starts with this (the alarm state change rule skips them). */
  alarmPrefix: string;
  dashboardName: string;
  topicKey: kms.IKey;
  /** `https://…` or `secretsmanager:<name>`; unset leaves the topic without a subscription. */
  opsAlarmEndpoint: string | undefined;
  storage: PipelineStorage;
  router: lambda.IFunction;
  sweep: lambda.IFunction;
  sources: readonly string[];
  api: apigw.IHttpApi;
  queueAgeAlarmSeconds: number;
}

/** Router outcomes that mean PagerDuty did not take an event (retry: 429/5xx/timeout; rejected: 4xx). */
export const DELIVERY_FAILURE_OUTCOMES = ["retry", "rejected"] as const;
/** DeadLettered reasons that follow a failed delivery (malformed input has its own path: the DLQ alarm). */
export const DELIVERY_FAILURE_DEAD_LETTER_REASONS = ["rejected", "exhausted"] as const;

const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * Powertools adds `service` to every EMF metric; the counted ones come from metric filters on count
 * lines (lib/platform/observability.ts) and carry only their own dimension.
 */
const serviceDimension = (metricName: string): Record<string, string> => (isCounted(metricName) ? {} : { service: SERVICE_NAME });

function relayMetric(metricName: string, dimensions: Record<string, string> = {}, period = FIVE_MINUTES): cw.Metric {
  return new cw.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { ...serviceDimension(metricName), ...dimensions },
    statistic: cw.Stats.SUM,
    period,
  });
}

/** Every value of one extra dimension, found at display time, so a new outcome or reason shows up by itself. */
function searchByDimension(metricName: string, dimensions: readonly string[], label: string): cw.MathExpression {
  const schema = [METRICS_NAMESPACE, ...[...dimensions, ...Object.keys(serviceDimension(metricName))].sort()].join(",");
  return new cw.MathExpression({
    expression: `SEARCH('{${schema}} MetricName="${metricName}"', 'Sum', 60)`,
    label,
    period: ONE_MINUTE,
  });
}

function sumOf(metrics: Record<string, cw.IMetric>, label: string, period: Duration): cw.MathExpression {
  return new cw.MathExpression({
    expression: Object.keys(metrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(" + "),
    usingMetrics: metrics,
    label,
    period,
  });
}

export class Operations extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cw.Alarm[] = [];
  readonly dashboard: cw.Dashboard;
  private readonly alarmPrefix: string;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.alarmPrefix = props.alarmPrefix;
    const stackName = Stack.of(this).stackName;
    this.topic = new AlarmTopic(this, "OpsTopic", {
      displayName: "alert-relay: the pipeline's own alarms",
      key: props.topicKey,
      alarmNamePattern: `${props.alarmPrefix}*`,
    }).topic;
    this.subscribe(props.opsAlarmEndpoint);

    const { alertsQueue, deadLetterQueue, adapterFailureQueue } = props.storage;
    const dlqDepth = deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cw.Stats.MAXIMUM, period: ONE_MINUTE });
    const failureDepth = adapterFailureQueue?.metricApproximateNumberOfMessagesVisible({ statistic: cw.Stats.MAXIMUM, period: ONE_MINUTE });
    const queueAge = alertsQueue.metricApproximateAgeOfOldestMessage({ statistic: cw.Stats.MAXIMUM, period: ONE_MINUTE });
    const deliveryFailures = sumOf(
      Object.fromEntries([
        ...DELIVERY_FAILURE_OUTCOMES.map((outcome) => [`outcome_${outcome}`, relayMetric(METRIC.routerOutcomes, { outcome })]),
        ...DELIVERY_FAILURE_DEAD_LETTER_REASONS.map((reason) => [`dead_lettered_${reason}`, relayMetric(METRIC.deadLettered, { reason })]),
      ]),
      "PagerDuty delivery failures",
      FIVE_MINUTES,
    );
    const publishFailures = sumOf(
      Object.fromEntries(props.sources.map((source, index) => [`publish_${index}`, relayMetric(METRIC.publishFailures, { source })])),
      "alerts not queued",
      FIVE_MINUTES,
    );
    const cli = `npx alert-relay dlq list --stack ${stackName}`;

    this.alarm("dlq-not-empty", dlqDepth, {
      threshold: 0,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription:
        `Alerts the router could not deliver are in the dead-letter queue, each with its reason. See them with: ` +
        `${cli}; replay after fixing the cause with: npx alert-relay dlq redrive --stack ${stackName}`,
    });
    if (failureDepth) {
      this.alarm("adapter-failures-not-empty", failureDepth, {
        threshold: 0,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        alarmDescription:
          `SNS, EventBridge or alarm-action events an adapter could not queue after Lambda's retries are in the adapter failure ` +
          `queue (the original event plus ErrorMessage). Re-invoke the adapter with the message body once the cause is fixed.`,
      });
    }
    this.alarm("queue-age-high", queueAge, {
      threshold: props.queueAgeAlarmSeconds,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      alarmDescription:
        `The oldest alert has waited more than ${props.queueAgeAlarmSeconds} s in the alerts queue: the router is failing, ` +
        `throttled or PagerDuty is refusing events. Check the router's logs and the delivery-failures alarm.`,
    });
    this.alarm("router-errors", props.router.metricErrors({ period: FIVE_MINUTES, statistic: cw.Stats.SUM }), {
      threshold: 1,
      alarmDescription:
        "The router function failed whole invocations (crash, timeout or a setting it cannot start with). Its " +
        "batches are retried and dead-lettered after the max receive count. Check its log group.",
    });
    this.alarm("sweep-errors", props.sweep.metricErrors({ period: FIVE_MINUTES, statistic: cw.Stats.SUM }), {
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: "The sweep keeps failing: problems whose suppression window ended are not being paged. Check its log group.",
    });
    this.alarm("pagerduty-delivery-failures", deliveryFailures, {
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription:
        `PagerDuty keeps refusing or failing events (${METRIC.routerOutcomes} outcome retry/rejected, ` +
        `${METRIC.deadLettered} rejected/exhausted) for 10 of 15 minutes: an outage, rate limiting, or a ` +
        `wrong routing key. Check the router's logs for the PagerDuty status.`,
    });
    this.alarm("adapter-publish-failures", publishFailures, {
      threshold: 1,
      alarmDescription:
        `Adapters could not put alerts on the queue (${METRIC.publishFailures}); webhook senders got 503 and will ` +
        `retry, invocations go to the adapter failure queue. Check SQS and the adapters' logs.`,
    });
    this.alarm("malformed-windows", relayMetric(METRIC.malformedWindows), {
      threshold: 1,
      alarmDescription:
        `A suppression window item cannot be read and is being ignored (${METRIC.malformedWindows}); it suppresses ` +
        `nothing until fixed. Find it with: npx alert-relay suppress validate --stack ${stackName}`,
    });

    this.dashboard = new cw.Dashboard(this, "Dashboard", { dashboardName: props.dashboardName, defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: "Alerts in, per source",
        left: props.sources.map((source) => relayMetric(METRIC.alertsAccepted, { source }, ONE_MINUTE).with({ label: source })),
        width: 8,
      }),
      new cw.GraphWidget({
        title: "Forwarded to PagerDuty, by action",
        left: [searchByDimension(METRIC.pagerDutyEvents, ["action"], "")],
        width: 8,
      }),
      new cw.GraphWidget({
        title: "Router outcomes (suppressed, deduplicated, stale, ...)",
        left: [searchByDimension(METRIC.routerOutcomes, ["outcome"], "")],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: "Rejected requests, by source and reason",
        left: [searchByDimension(METRIC.requestsRejected, ["source", "reason"], "")],
        width: 8,
      }),
      new cw.GraphWidget({
        title: "Dead-lettered by the router, by reason",
        left: [searchByDimension(METRIC.deadLettered, ["reason"], "")],
        width: 8,
      }),
      new cw.GraphWidget({
        title: "Publish failures and malformed windows",
        left: [publishFailures, relayMetric(METRIC.malformedWindows, {}, ONE_MINUTE).with({ label: "malformed windows" })],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: "Queue depth",
        left: [
          alertsQueue.metricApproximateNumberOfMessagesVisible({ statistic: cw.Stats.MAXIMUM, period: ONE_MINUTE, label: "alerts queue" }),
          dlqDepth.with({ label: "DLQ" }),
          ...(failureDepth ? [failureDepth.with({ label: "adapter failures" })] : []),
        ],
        width: 8,
      }),
      new cw.GraphWidget({ title: "Oldest alert in the queue (s)", left: [queueAge], width: 8 }),
      new cw.GraphWidget({
        title: "Webhooks (HTTP API)",
        left: [
          props.api.metricCount({ period: ONE_MINUTE }),
          props.api.metricClientError({ period: ONE_MINUTE }),
          props.api.metricServerError({ period: ONE_MINUTE }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: "Router and sweep errors",
        left: [
          props.router.metricErrors({ period: ONE_MINUTE, label: "router errors" }),
          props.router.metricThrottles({ period: ONE_MINUTE, label: "router throttles" }),
          props.sweep.metricErrors({ period: ONE_MINUTE, label: "sweep errors" }),
        ],
        width: 8,
      }),
      new cw.GraphWidget({
        title: "Router duration (ms)",
        left: ["p50", "p99", "Maximum"].map((statistic) =>
          props.router.metricDuration({ period: ONE_MINUTE, statistic, label: `router ${statistic}` }),
        ),
        width: 8,
      }),
      new cw.AlarmStatusWidget({ title: "Ops alarms", alarms: this.alarms, width: 8 }),
    );
  }

  private subscribe(endpoint: string | undefined): void {
    if (!endpoint) return;
    const secret = /^secretsmanager:(.+)$/.exec(endpoint)?.[1];
    // A secret reference is resolved by CloudFormation at deploy time, so the integration key never enters the template.
    const url = secret ? SecretValue.secretsManager(secret).unsafeUnwrap() : endpoint;
    this.topic.addSubscription(new subscriptions.UrlSubscription(url, { protocol: sns.SubscriptionProtocol.HTTPS }));
  }

  private alarm(
    name: string,
    metric: cw.Metric | cw.MathExpression,
    options: Omit<cw.CreateAlarmOptions, "evaluationPeriods"> & { evaluationPeriods?: number },
  ): void {
    const alarm = metric.createAlarm(this, `Alarm-${name}`, {
      evaluationPeriods: 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      ...options,
      alarmName: `${this.alarmPrefix}${name}`,
    });
    // OK actions too: PagerDuty's CloudWatch integration resolves the incident when the alarm clears.
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
