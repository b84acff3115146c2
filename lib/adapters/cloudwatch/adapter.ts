/**
 * Amazon CloudWatch alarms, whichever way they arrive: an SNS event (Lambda subscription), an SNS
 * HTTP(S) notification body (or its raw-delivery message), an EventBridge "CloudWatch Alarm State
 * Change" event, or a Lambda alarm action. Every path reduces to one AlarmChange, so ALARM and OK
 * of one alarm share a dedupKey, and one state change seen twice shares an id, however it came.
 * The mapping and the alarm-description conventions are documented in README.md beside this file.
 */
import { choiceSetting, defineAdapter, reject, severitySetting } from "../define.ts";
import { buildAlert, parseTimestamp, type AlertDraft, type BuildContext } from "../../alert/build.ts";
import { parseSeverity } from "../../alert/severity.ts";
import { truncate } from "../../alert/limits.ts";
import type { AlertStatus, NormalizedAlert, Severity } from "../../alert/schema.ts";
import { consoleHost, isRegionCode, regionCodeFromDisplayName } from "./regions.ts";
import { parseDescriptionMarkers } from "./markers.ts";

export const INSUFFICIENT_DATA_POLICIES = ["ignore", "firing", "resolved"] as const;
export type InsufficientDataPolicy = (typeof INSUFFICIENT_DATA_POLICIES)[number];

export interface CloudWatchConfig {
  /** `CLOUDWATCH_DEFAULT_SEVERITY`, default `error`: severity when the description has no `severity:` marker. */
  defaultSeverity: Severity;
  /** `CLOUDWATCH_INSUFFICIENT_DATA`, default `ignore`: what an INSUFFICIENT_DATA state becomes. */
  insufficientData: InsufficientDataPolicy;
}

export type Arrival = "sns" | "sns-http" | "sns-raw" | "eventbridge" | "alarm-action";
type AlarmState = "ALARM" | "OK" | "INSUFFICIENT_DATA";
type AlarmType = "metric" | "metric-math" | "anomaly-detection" | "composite";
type Json = Record<string, unknown>;

const ALARM_STATES: readonly string[] = ["ALARM", "OK", "INSUFFICIENT_DATA"];
const STATE_CHANGE_DETAIL_TYPE = "CloudWatch Alarm State Change";

interface MetricRef {
  namespace: string | undefined;
  name: string | undefined;
  dimensions: (readonly [string, string])[];
}

/** One alarm state change, reduced from any arrival path. */
interface AlarmChange {
  arrival: Arrival;
  alarmName: string;
  alarmArn: string | undefined;
  account: string;
  region: string;
  /** False when `region` is an unmapped display name standing in for the code. */
  regionIsCode: boolean;
  state: AlarmState;
  previousState: string | undefined;
  occurredAt: string | undefined;
  reason: string | undefined;
  reasonData: unknown;
  description: string | undefined;
  alarmType: AlarmType;
  metrics: MetricRef[];
  alarmRule: string | undefined;
  actionsSuppressedBy: string | undefined;
  actionsSuppressedReason: string | undefined;
  /** Path-specific facts for details (the SNS Trigger, the EventBridge configuration, ids). */
  extraDetails: Json;
  warnings: string[];
}

/** A payload that was understood but carries no alarm (an SNS subscription handshake). */
type Notice = { notice: string };

export const cloudwatch = defineAdapter<CloudWatchConfig>({
  name: "cloudwatch",
  description: "Amazon CloudWatch alarms via SNS (Lambda or HTTPS), EventBridge or a Lambda alarm action",
  transports: ["http", "sns", "eventbridge", "invoke"],
  config: (env) => ({
    defaultSeverity: severitySetting(env, "CLOUDWATCH_DEFAULT_SEVERITY", "error"),
    insufficientData: choiceSetting(env, "CLOUDWATCH_INSUFFICIENT_DATA", INSUFFICIENT_DATA_POLICIES, "ignore"),
  }),
  normalize(payload, ctx) {
    if (!isObject(payload)) {
      reject(
        "wrong_shape",
        `expected a JSON object (SNS event, SNS notification, EventBridge event or alarm action), got ${describe(payload)}`,
      );
    }
    const alerts: NormalizedAlert[] = [];
    const notices: string[] = [];
    for (const item of readPayload(payload)) {
      const outcome = "notice" in item ? item : toAlert(item, ctx.config, ctx);
      if ("notice" in outcome) notices.push(outcome.notice);
      else alerts.push(outcome);
    }
    return notices.length > 0 ? { alerts, notice: notices.join(" ") } : { alerts };
  },
});

function readPayload(payload: Json): (AlarmChange | Notice)[] {
  if ("Records" in payload) return readSnsEvent(payload);
  if (typeof payload.Type === "string" && ("TopicArn" in payload || "Message" in payload)) return readSnsHttpBody(payload);
  if ("alarmData" in payload) return [readAlarmAction(payload)];
  if ("detail-type" in payload || ("detail" in payload && "source" in payload)) return [readEventBridge(payload, "", "eventbridge", {})];
  if ("AlarmName" in payload || "NewStateValue" in payload) return [readAlarmMessage(payload, "", "sns-raw", {})];
  reject(
    "wrong_shape",
    "not a CloudWatch alarm notification: expected an SNS event (Records), an SNS HTTP body (Type, Message), " +
      "an EventBridge event (detail-type, detail), a Lambda alarm action (alarmData) or an alarm message (AlarmName, NewStateValue)",
  );
}

// ---------------------------------------------------------------------------------------------
// SNS

function readSnsEvent(payload: Json): AlarmChange[] {
  const records = payload.Records;
  if (!Array.isArray(records)) reject("wrong_shape", `Records must be an array of SNS records, got ${describe(records)}`, "Records");
  if (records.length === 0) reject("wrong_shape", "Records is empty: an SNS event carries at least one record", "Records");
  return records.map((record: unknown, index) => {
    const path = `Records.${index}`;
    if (!isObject(record)) reject("wrong_shape", `an SNS record must be an object, got ${describe(record)}`, path);
    const source = record.EventSource ?? record.eventSource;
    if (source !== undefined && source !== "aws:sns") {
      reject(
        "wrong_shape",
        `record from ${describe(source)}, not aws:sns: only SNS records carry CloudWatch alarms`,
        `${path}.EventSource`,
      );
    }
    const sns = record.Sns;
    if (!isObject(sns)) reject("wrong_shape", `an SNS record needs an Sns object, got ${describe(sns)}`, `${path}.Sns`);
    if (sns.Type !== undefined && sns.Type !== "Notification") {
      reject("unsupported_event", `SNS message type ${describe(sns.Type)} is not a Notification`, `${path}.Sns.Type`);
    }
    return readSnsMessage(sns.Message, `${path}.Sns.Message`, "sns", snsNotificationDetails(sns));
  });
}

function readSnsHttpBody(body: Json): (AlarmChange | Notice)[] {
  switch (body.Type) {
    case "Notification":
      return [readSnsMessage(body.Message, "Message", "sns-http", snsNotificationDetails(body))];
    case "SubscriptionConfirmation":
    case "UnsubscribeConfirmation":
      return [{ notice: subscriptionNotice(body) }];
    default:
      reject(
        "unsupported_event",
        `SNS message type ${describe(body.Type)} is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation`,
        "Type",
      );
  }
}

function snsNotificationDetails(sns: Json): Json {
  return { snsMessageId: optString(sns.MessageId), snsTopicArn: optString(sns.TopicArn), snsTimestamp: optString(sns.Timestamp) };
}

function readSnsMessage(message: unknown, path: string, arrival: Arrival, notification: Json): AlarmChange {
  let parsed: unknown = message;
  if (typeof message === "string") {
    try {
      parsed = JSON.parse(message);
    } catch {
      reject(
        "wrong_shape",
        `SNS Message is not JSON (starts ${JSON.stringify(truncate(message.trim(), 60))}): ` +
          `this topic should carry only CloudWatch alarm notifications`,
        path,
      );
    }
  }
  if (!isObject(parsed)) reject("wrong_shape", `SNS Message must be a CloudWatch alarm JSON object, got ${describe(parsed)}`, path);
  // An EventBridge rule can target an SNS topic; its message is then the whole event.
  if ("detail-type" in parsed && "detail" in parsed) return readEventBridge(parsed, path, arrival, notification);
  if (!("AlarmName" in parsed) && !("NewStateValue" in parsed)) {
    reject("wrong_shape", "SNS Message is JSON but not a CloudWatch alarm notification (no AlarmName or NewStateValue)", path);
  }
  return readAlarmMessage(parsed, path, arrival, notification);
}

/** The JSON alarm message CloudWatch publishes to SNS (PascalCase fields, display-name Region). */
function readAlarmMessage(message: Json, path: string, arrival: Arrival, notification: Json): AlarmChange {
  const at = (field: string) => (path ? `${path}.${field}` : field);
  const arn = parseAlarmArn(message.AlarmArn);
  const alarmName = optString(message.AlarmName) ?? arn?.name;
  if (!alarmName) reject("wrong_shape", "the alarm message has no AlarmName", at("AlarmName"));
  const account = arn?.account ?? optString(message.AWSAccountId);
  if (!account) reject("wrong_shape", "the alarm message has neither an AlarmArn nor an AWSAccountId", at("AWSAccountId"));
  const warnings: string[] = [];
  const region = arn ? { code: arn.region, isCode: true } : regionFromDisplayName(message.Region, warnings);
  if (!region) reject("wrong_shape", "the alarm message has neither an AlarmArn nor a Region", at("Region"));

  const trigger = isObject(message.Trigger) ? message.Trigger : undefined;
  const { metrics, expressions } = trigger ? metricsOfTrigger(trigger) : { metrics: [], expressions: [] };
  const alarmRule = optString(message.AlarmRule);
  return {
    arrival,
    alarmName,
    alarmArn: optString(message.AlarmArn),
    account,
    region: region.code,
    regionIsCode: region.isCode,
    state: alarmState(message.NewStateValue, at("NewStateValue")),
    previousState: optString(message.OldStateValue),
    occurredAt: readTimestamp(message.StateChangeTime),
    reason: optString(message.NewStateReason),
    reasonData: undefined,
    description: optString(message.AlarmDescription),
    alarmType: alarmTypeOf(alarmRule, trigger?.ThresholdMetricId, expressions),
    metrics,
    alarmRule,
    actionsSuppressedBy: undefined,
    actionsSuppressedReason: undefined,
    extraDetails: compact({
      trigger: trigger ? compact({ ...trigger, TreatMissingData: treatMissingData(trigger.TreatMissingData) }) : undefined,
      triggeringChildren: message.TriggeringChildren,
      regionName: optString(message.Region),
      ...notification,
    }),
    warnings,
  };
}

function regionFromDisplayName(value: unknown, warnings: string[]): { code: string; isCode: boolean } | undefined {
  const displayName = optString(value);
  if (!displayName) return undefined;
  const code = regionCodeFromDisplayName(displayName);
  if (code) return { code, isCode: true };
  warnings.push(
    `Region "${displayName}" is not in lib/adapters/cloudwatch/regions.ts and the message has no AlarmArn, ` +
      "so the display name stands in for the region code: this alarm will not share a dedupKey with its EventBridge events",
  );
  return { code: collapseSpaces(displayName), isCode: false };
}

/** `- TreatMissingData:   missing` (older messages) and `missing` mean the same. */
function treatMissingData(value: unknown): unknown {
  return typeof value === "string" ? value.replace(/^\s*-?\s*TreatMissingData:\s*/i, "").trim() : value;
}

function metricsOfTrigger(trigger: Json): { metrics: MetricRef[]; expressions: string[] } {
  const metrics: MetricRef[] = [];
  const expressions: string[] = [];
  const name = optString(trigger.MetricName);
  const namespace = optString(trigger.Namespace);
  if (name || namespace) metrics.push({ name, namespace, dimensions: dimensionPairs(trigger.Dimensions) });
  if (Array.isArray(trigger.Metrics)) {
    for (const query of trigger.Metrics) {
      if (!isObject(query)) continue;
      const expression = optString(query.Expression);
      if (expression) expressions.push(expression);
      const metric = isObject(query.MetricStat) && isObject(query.MetricStat.Metric) ? query.MetricStat.Metric : undefined;
      if (metric) {
        metrics.push({
          name: optString(metric.MetricName),
          namespace: optString(metric.Namespace),
          dimensions: dimensionPairs(metric.Dimensions),
        });
      }
    }
  }
  return { metrics, expressions };
}

function subscriptionNotice(body: Json): string {
  const topicArn = optString(body.TopicArn) ?? "(no TopicArn)";
  const subscribeUrl = optString(body.SubscribeURL);
  const token = optString(body.Token);
  const region = topicArn.split(":")[3];
  const cli = token
    ? `aws sns confirm-subscription${region && isRegionCode(region) ? ` --region ${region}` : ""} ` +
      `--topic-arn ${truncate(topicArn, 512)} --token ${truncate(token, 1024)}`
    : undefined;
  const how = [subscribeUrl ? `open ${truncate(subscribeUrl, 2048)}` : undefined, cli ? `run \`${cli}\`` : undefined]
    .filter(Boolean)
    .join(" or ");
  const caution =
    subscribeUrl && !isSnsEndpoint(subscribeUrl)
      ? " Caution: the SubscribeURL does not point at an sns.<region>.amazonaws.com " +
        "endpoint, so this request may not come from SNS; do not open it."
      : "";
  if (body.Type === "UnsubscribeConfirmation") {
    return (
      `SNS reports that this endpoint was unsubscribed from ${topicArn}; no alarms will arrive from that topic.` +
      (how ? ` To subscribe again, ${how}.` : "") +
      caution
    );
  }
  return (
    `SNS subscription to ${topicArn} is waiting for confirmation; alert-relay fetches nothing, so confirm it by hand: ` +
    (how || "request a new confirmation in the SNS console") +
    ". The token expires after 3 days; after that, request a new confirmation in the SNS console." +
    caution
  );
}

function isSnsEndpoint(url: string): boolean {
  try {
    const { protocol, hostname } = new URL(url);
    return protocol === "https:" && /^sns\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$/.test(hostname);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// EventBridge and Lambda alarm actions (both carry the alarm as `state`/`previousState`/`configuration`)

function readEventBridge(event: Json, path: string, arrival: Arrival, notification: Json): AlarmChange {
  const at = (field: string) => (path ? `${path}.${field}` : field);
  if (event.source !== "aws.cloudwatch") {
    reject(
      "unsupported_event",
      `EventBridge event from ${describe(event.source)}: this adapter takes aws.cloudwatch alarm state changes`,
      at("source"),
    );
  }
  if (event["detail-type"] !== STATE_CHANGE_DETAIL_TYPE) {
    reject(
      "unsupported_event",
      `EventBridge detail-type ${describe(event["detail-type"])} is not "${STATE_CHANGE_DETAIL_TYPE}"; narrow the rule's event pattern`,
      at("detail-type"),
    );
  }
  const resources: unknown[] = Array.isArray(event.resources) ? event.resources : [];
  const arnText = resources.find((resource) => parseAlarmArn(resource) !== undefined);
  return readAlarmDetail(event.detail, at("detail"), {
    arrival,
    arn: parseAlarmArn(arnText),
    arnText: optString(arnText),
    account: optString(event.account),
    region: optString(event.region),
    eventTime: event.time,
    extraDetails: { eventBridgeId: optString(event.id), ...notification },
  });
}

function readAlarmAction(event: Json): AlarmChange {
  if (event.source !== undefined && event.source !== "aws.cloudwatch") {
    reject("unsupported_event", `alarm action event from ${describe(event.source)}, not aws.cloudwatch`, "source");
  }
  const arn = parseAlarmArn(event.alarmArn);
  return readAlarmDetail(event.alarmData, "alarmData", {
    arrival: "alarm-action",
    arn,
    arnText: optString(event.alarmArn),
    account: optString(event.accountId),
    region: optString(event.region),
    eventTime: event.time,
    extraDetails: {},
  });
}

interface DetailContext {
  arrival: Arrival;
  arn: AlarmArn | undefined;
  arnText: string | undefined;
  account: string | undefined;
  region: string | undefined;
  eventTime: unknown;
  extraDetails: Json;
}

function readAlarmDetail(detail: unknown, path: string, context: DetailContext): AlarmChange {
  if (!isObject(detail)) reject("wrong_shape", `expected the alarm's state as an object, got ${describe(detail)}`, path);
  const alarmName = optString(detail.alarmName) ?? context.arn?.name;
  if (!alarmName) reject("wrong_shape", "the event has no alarmName", `${path}.alarmName`);
  const account = context.arn?.account ?? context.account;
  if (!account) reject("wrong_shape", "the event has neither an alarm ARN nor an account", path);
  const region = context.arn?.region ?? (context.region && isRegionCode(context.region) ? context.region : undefined);
  if (!region) reject("wrong_shape", "the event has neither an alarm ARN nor a region code", path);
  const state = detail.state;
  if (!isObject(state)) reject("wrong_shape", `expected state to be an object, got ${describe(state)}`, `${path}.state`);
  const previous = isObject(detail.previousState) ? detail.previousState : undefined;
  const configuration = isObject(detail.configuration) ? detail.configuration : {};

  const { metrics, expressions } = metricsOfConfiguration(configuration.metrics);
  const alarmRule = optString(configuration.alarmRule);
  const { description: _description, alarmRule: _alarmRule, ...configurationDetails } = configuration;
  return {
    arrival: context.arrival,
    alarmName,
    alarmArn: context.arnText,
    account,
    region,
    regionIsCode: true,
    state: alarmState(state.value, `${path}.state.value`),
    previousState: optString(previous?.value),
    occurredAt: readTimestamp(state.timestamp) ?? readTimestamp(context.eventTime),
    reason: optString(state.reason),
    reasonData: parseReasonData(state.reasonData),
    description: optString(configuration.description),
    alarmType: alarmTypeOf(alarmRule, configuration.thresholdMetricId, expressions),
    metrics,
    alarmRule,
    actionsSuppressedBy: optString(state.actionsSuppressedBy),
    actionsSuppressedReason: optString(state.actionsSuppressedReason),
    extraDetails: compact({
      configuration: compact(configurationDetails),
      previousStateReason: optString(previous?.reason),
      muteDetail: detail.muteDetail,
      ...context.extraDetails,
    }),
    warnings: [],
  };
}

function metricsOfConfiguration(value: unknown): { metrics: MetricRef[]; expressions: string[] } {
  const metrics: MetricRef[] = [];
  const expressions: string[] = [];
  if (!Array.isArray(value)) return { metrics, expressions };
  for (const query of value) {
    if (!isObject(query)) continue;
    const expression = optString(query.expression);
    if (expression) expressions.push(expression);
    const metric = isObject(query.metricStat) && isObject(query.metricStat.metric) ? query.metricStat.metric : undefined;
    if (metric) {
      metrics.push({ name: optString(metric.name), namespace: optString(metric.namespace), dimensions: dimensionPairs(metric.dimensions) });
    }
  }
  return { metrics, expressions };
}

/** reasonData is a JSON string; kept as text when it is not JSON. */
function parseReasonData(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

// ---------------------------------------------------------------------------------------------
// Shared reading

interface AlarmArn {
  region: string;
  account: string;
  name: string;
}

/** `arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`; names may contain colons. */
function parseAlarmArn(value: unknown): AlarmArn | undefined {
  if (typeof value !== "string") return undefined;
  const parts = value.split(":");
  if (parts.length < 7 || parts[0] !== "arn" || parts[2] !== "cloudwatch" || parts[5] !== "alarm") return undefined;
  const [, , , region = "", account = ""] = parts;
  const name = parts.slice(6).join(":");
  if (!isRegionCode(region) || !/^\d{12}$/.test(account) || !name) return undefined;
  return { region, account, name };
}

/**
 * parseTimestamp also returns years past 9999 in the extended `+010000-…` form, which the alert
 * schema refuses; such a time is as unreadable as garbage, so receivedAt stands in.
 */
function readTimestamp(value: unknown): string | undefined {
  const iso = parseTimestamp(value);
  return iso && /^\d{4}-/.test(iso) ? iso : undefined;
}

function alarmState(value: unknown, path: string): AlarmState {
  if (typeof value === "string" && ALARM_STATES.includes(value)) return value as AlarmState;
  if (value === undefined || value === null) reject("wrong_shape", "the alarm state is missing", path);
  reject("unsupported_event", `alarm state ${describe(value)} is not ALARM, OK or INSUFFICIENT_DATA`, path);
}

function alarmTypeOf(alarmRule: string | undefined, thresholdMetricId: unknown, expressions: readonly string[]): AlarmType {
  if (alarmRule) return "composite";
  if (optString(thresholdMetricId) || expressions.some((e) => /ANOMALY_DETECTION_BAND\s*\(/i.test(e))) return "anomaly-detection";
  return expressions.length > 0 ? "metric-math" : "metric";
}

/** SNS sends `[{"name","value"}]`; EventBridge and alarm actions send `{"Name": "value"}`. */
function dimensionPairs(value: unknown): (readonly [string, string])[] {
  const pairs: (readonly [string, string])[] = [];
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (!isObject(entry)) continue;
      const name = optString(entry.name ?? entry.Name);
      const dimensionValue = scalarText(entry.value ?? entry.Value);
      if (name && dimensionValue !== undefined) pairs.push([name, dimensionValue]);
    }
  } else if (isObject(value)) {
    for (const [name, raw] of Object.entries(value)) {
      const dimensionValue = scalarText(raw);
      if (name && dimensionValue !== undefined) pairs.push([name, dimensionValue]);
    }
  }
  return pairs;
}

// ---------------------------------------------------------------------------------------------
// Mapping one change to an alert

/**
 * Dimensions that name the affected resource, most specific first; the first one present becomes
 * `sourceHost` (PagerDuty's "source"), so incidents show the instance, function or table.
 */
const RESOURCE_DIMENSIONS = [
  "InstanceId",
  "DBInstanceIdentifier",
  "DBClusterIdentifier",
  "CacheClusterId",
  "ReplicationGroupId",
  "FunctionName",
  "LoadBalancer",
  "LoadBalancerName",
  "TargetGroup",
  "AutoScalingGroupName",
  "ServiceName",
  "ClusterName",
  "DomainName",
  "QueueName",
  "TableName",
  "BucketName",
  "StreamName",
  "DeliveryStreamName",
  "TopicName",
  "StateMachineArn",
  "ApiName",
  "ApiId",
  "DistributionId",
  "NatGatewayId",
  "VolumeId",
  "FileSystemId",
  "Host",
  "host",
  "hostname",
];

function toAlert(change: AlarmChange, config: CloudWatchConfig, ctx: BuildContext): NormalizedAlert | Notice {
  const markers = parseDescriptionMarkers(change.description);
  const warnings = [...change.warnings];

  let policy = config.insufficientData;
  let policySource = "CLOUDWATCH_INSUFFICIENT_DATA";
  if (markers.insufficientData) {
    const word = markers.insufficientData.toLowerCase();
    if ((INSUFFICIENT_DATA_POLICIES as readonly string[]).includes(word)) {
      policy = word as InsufficientDataPolicy;
      policySource = "the alarm description";
    } else {
      warnings.push(`insufficient_data marker "${markers.insufficientData}" is not ignore, firing or resolved; ${policy} applies`);
    }
  }
  const status = statusOf(change.state, policy);
  if (!status) {
    const howToPage =
      policySource === "CLOUDWATCH_INSUFFICIENT_DATA"
        ? 'set CLOUDWATCH_INSUFFICIENT_DATA=firing, or add "insufficient_data: firing" to the alarm description'
        : 'change the marker in the alarm description to "insufficient_data: firing"';
    return {
      notice:
        `CloudWatch alarm "${truncate(change.alarmName, 256)}" (${change.account}, ${change.region}) went to INSUFFICIENT_DATA: ` +
        `no alert sent (policy "ignore", from ${policySource}). Missing data is not health, so it never resolves an incident; ` +
        `to page on it, ${howToPage}.`,
    };
  }

  let severity = config.defaultSeverity;
  if (markers.severity) {
    const parsed = parseSeverity(markers.severity);
    if (parsed) severity = parsed;
    else warnings.push(`severity marker "${markers.severity}" is not a known severity word; the default ${severity} applies`);
  }

  const namespace = distinct(change.metrics.map((m) => m.namespace));
  const metricName = distinct(change.metrics.map((m) => m.name));
  const dimensions = new Map<string, string>();
  for (const metric of change.metrics) {
    for (const [name, value] of metric.dimensions) if (!dimensions.has(name)) dimensions.set(name, value);
  }
  // buildAlert lets a `severity` label override severity; a log-level dimension must not outrank the marker.
  const dimensionLabels = Object.fromEntries(
    [...dimensions].map(([name, value]) => [name === "severity" ? "dimension_severity" : name, value]),
  );
  const resource = RESOURCE_DIMENSIONS.find((name) => dimensions.has(name));

  // Later entries win, so the adapter's own labels cannot be shadowed by a dimension of the same name.
  const labels: Record<string, unknown> = {
    ...dimensionLabels,
    ...markers.labels,
    alertname: change.alarmName,
    account: change.account,
    region: change.region,
    namespace,
    metric: metricName,
    alarm_type: change.alarmType,
    actions_suppressed_by: change.actionsSuppressedBy,
  };

  const stateTime = change.occurredAt;
  const draft: AlertDraft = {
    source: "cloudwatch",
    identity: `cloudwatch:${change.account}:${change.region}:${change.alarmName}`,
    status,
    severity,
    occurredAt: stateTime,
    summary: [summaryOf(change)],
    sourceHost: resource ? dimensions.get(resource) : change.alarmName,
    component: namespace,
    group: markers.labels.service ?? `${change.account}/${change.region}`,
    class: markers.class,
    links: [
      { href: change.regionIsCode ? consoleLink(change.region, change.alarmName) : undefined, text: "CloudWatch alarm" },
      { href: markers.runbook, text: "Runbook" },
      ...markers.urls.map((href) => ({ href, text: "Link from the alarm description" })),
    ],
    labels,
    details: {
      arrival: change.arrival,
      state: change.state,
      previousState: change.previousState,
      reason: change.reason,
      reasonData: change.reasonData,
      description: change.description,
      alarmArn: change.alarmArn,
      alarmType: change.alarmType,
      alarmRule: change.alarmRule,
      actionsSuppressedBy: change.actionsSuppressedBy,
      actionsSuppressedReason: change.actionsSuppressedReason,
      insufficientDataPolicy: change.state === "INSUFFICIENT_DATA" ? `${policy} (from ${policySource})` : undefined,
      ...change.extraDetails,
      warnings: warnings.length > 0 ? warnings : undefined,
    },
    // One state change keeps one id whether it came by SNS, EventBridge or an alarm action.
    eventKey: `${stateTime ?? ""}/${change.state}`,
  };
  return buildAlert(draft, ctx);
}

/**
 * `ALARM: HighCPU — Threshold Crossed: …`. Suppressed composite actions are named up front: the
 * page comes through EventBridge although CloudWatch held its own actions back.
 */
function summaryOf(change: AlarmChange): string {
  const suppressed = change.actionsSuppressedBy ? ` (CloudWatch actions suppressed by ${change.actionsSuppressedBy})` : "";
  return `${change.state}${suppressed}: ${change.alarmName}${change.reason ? ` — ${change.reason}` : ""}`;
}

function statusOf(state: AlarmState, insufficientData: InsufficientDataPolicy): AlertStatus | undefined {
  if (state === "ALARM") return "firing";
  if (state === "OK") return "resolved";
  return insufficientData === "ignore" ? undefined : insufficientData;
}

function consoleLink(region: string, alarmName: string): string | undefined {
  const host = consoleHost(region);
  return host ? `https://${host}/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(alarmName)}` : undefined;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optString(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  return text ? text : undefined;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function collapseSpaces(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function distinct(values: readonly (string | undefined)[]): string | undefined {
  const unique = [...new Set(values.filter((v): v is string => Boolean(v)))];
  return unique.length > 0 ? unique.join(",") : undefined;
}

/** Drops null, empty strings and empty arrays: SNS fills many optional fields with them. */
function compact(object: Json): Json {
  const out: Json = {};
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0)) continue;
    // Defined, not assigned: a "__proto__" key from JSON.parse must stay a plain field.
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(truncate(value, 60));
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}
