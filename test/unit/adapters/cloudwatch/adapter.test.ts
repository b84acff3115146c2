import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cloudwatch } from "../../../../lib/adapters/cloudwatch/adapter.ts";
import { REGION_DISPLAY_NAMES, consoleHost, regionCodeFromDisplayName } from "../../../../lib/adapters/cloudwatch/regions.ts";
import { parseAlert, type NormalizedAlert } from "../../../../lib/alert/schema.ts";
import type { AdapterResult } from "../../../../lib/adapters/types.ts";

type Json = Record<string, unknown>;

const FIXTURES = fileURLToPath(new URL("../../../../lib/adapters/cloudwatch/fixtures", import.meta.url));
const RECEIVED_AT = "2026-11-26T18:00:00.000Z";

function fixture(file: string): Json {
  return JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as Json;
}

function run(payload: unknown, env: Record<string, string> = {}): AdapterResult {
  return cloudwatch.normalize(payload, { receivedAt: RECEIVED_AT, config: cloudwatch.config(env) });
}

function alertsOf(result: AdapterResult): NormalizedAlert[] {
  if (!result.ok) throw new Error(`rejected: ${result.rejection.path}: ${result.rejection.message}`);
  for (const alert of result.alerts) parseAlert(alert);
  return result.alerts;
}

function onlyAlert(result: AdapterResult): NormalizedAlert {
  const alerts = alertsOf(result);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
}

/** The SNS alarm message of high-cpu.sns-alarm.json, with fields replaced (undefined removes one). */
function alarmMessage(overrides: Json = {}): Json {
  const event = fixture("high-cpu.sns-alarm.json") as { Records: { Sns: { Message: string } }[] };
  const message = { ...(JSON.parse(event.Records[0]!.Sns.Message) as Json), ...overrides };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete message[key];
  return message;
}

function snsEvent(...messages: (Json | string)[]): Json {
  return {
    Records: messages.map((message, index) => ({
      EventSource: "aws:sns",
      EventVersion: "1.0",
      Sns: {
        Type: "Notification",
        MessageId: `00000000-0000-5000-8000-00000000000${index}`,
        TopicArn: "arn:aws:sns:us-east-1:123456789012:alert-relay-cloudwatch",
        Message: typeof message === "string" ? message : JSON.stringify(message),
        Timestamp: "2026-11-26T17:43:27.170Z",
      },
    })),
  };
}

/** high-cpu.eventbridge-alarm.json with its detail's state/configuration fields replaced. */
function eventBridgeEvent(changes: { state?: Json; description?: string; top?: Json } = {}): Json {
  const event = fixture("high-cpu.eventbridge-alarm.json");
  const detail = event.detail as { state: Json; configuration: Json };
  Object.assign(detail.state, changes.state ?? {});
  if (changes.description !== undefined) detail.configuration.description = changes.description;
  return { ...event, ...changes.top };
}

function withDescription(description: string | null): Json {
  return snsEvent(alarmMessage({ AlarmDescription: description }));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("identity across arrival paths", () => {
  const viaSns = onlyAlert(run(fixture("high-cpu.sns-alarm.json")));
  const viaEventBridge = onlyAlert(run(fixture("high-cpu.eventbridge-alarm.json")));
  const viaAlarmAction = onlyAlert(run(fixture("high-cpu.alarm-action-alarm.json")));
  const resolved = onlyAlert(run(fixture("high-cpu.eventbridge-ok.json")));

  it("gives ALARM by SNS, EventBridge and alarm action and the later OK one dedupKey", () => {
    const key = "cloudwatch:123456789012:us-east-1:prod-web-HighCPU";
    expect([viaSns, viaEventBridge, viaAlarmAction, resolved].map((a) => a.dedupKey)).toEqual([key, key, key, key]);
    expect([viaSns.status, viaEventBridge.status, viaAlarmAction.status, resolved.status]).toEqual([
      "firing",
      "firing",
      "firing",
      "resolved",
    ]);
  });

  it("gives one state change the same id whichever path delivered it, and the OK another", () => {
    expect(viaEventBridge.id).toBe(viaSns.id);
    expect(viaAlarmAction.id).toBe(viaSns.id);
    expect(resolved.id).not.toBe(viaSns.id);
    expect(new Set([viaSns, viaEventBridge, viaAlarmAction].map((a) => a.details.arrival))).toEqual(
      new Set(["sns", "eventbridge", "alarm-action"]),
    );
  });

  it("gives a redelivered SNS notification the same id and a later state change a new one", () => {
    expect(onlyAlert(run(fixture("high-cpu.sns-alarm.json"))).id).toBe(viaSns.id);
    const later = onlyAlert(run(snsEvent(alarmMessage({ StateChangeTime: "2026-11-26T19:00:00.000+0000" }))));
    expect(later.dedupKey).toBe(viaSns.dedupKey);
    expect(later.id).not.toBe(viaSns.id);
  });

  it("keeps labels the same on every path so suppression windows match them all", () => {
    expect(viaEventBridge.labels).toEqual(viaSns.labels);
    expect(viaAlarmAction.labels).toEqual(viaSns.labels);
  });

  it("derives the identity from account, region and name when there is no ARN", () => {
    const withoutArn = onlyAlert(run(snsEvent(alarmMessage({ AlarmArn: undefined }))));
    expect(withoutArn.dedupKey).toBe(viaSns.dedupKey);
    expect(withoutArn.id).toBe(viaSns.id);
    const eventWithoutResources = onlyAlert(run(eventBridgeEvent({ top: { resources: [] } })));
    expect(eventWithoutResources.dedupKey).toBe(viaSns.dedupKey);
  });

  it("reads an EventBridge event forwarded through SNS like the event itself", () => {
    const forwarded = onlyAlert(run(snsEvent(fixture("high-cpu.eventbridge-alarm.json"))));
    expect(forwarded.dedupKey).toBe(viaEventBridge.dedupKey);
    expect(forwarded.id).toBe(viaEventBridge.id);
  });

  it("accepts a raw-delivery alarm message posted as the body", () => {
    const raw = onlyAlert(run(alarmMessage()));
    expect(raw.id).toBe(viaSns.id);
    expect(raw.details.arrival).toBe("sns-raw");
  });

  it("keeps alarm names with colons whole when reading them from the ARN", () => {
    const name = "svc:checkout:latency";
    const alert = onlyAlert(
      run(snsEvent(alarmMessage({ AlarmName: undefined, AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}` }))),
    );
    expect(alert.dedupKey).toBe(`cloudwatch:123456789012:us-east-1:${name}`);
    expect(alert.labels.alertname).toBe(name);
  });
});

describe("regions", () => {
  it.each([
    ["US East (N. Virginia)", "us-east-1"],
    ["EU (Ireland)", "eu-west-1"],
    ["Europe (Ireland)", "eu-west-1"],
    ["EU (Frankfurt)", "eu-central-1"],
    ["South America (São Paulo)", "sa-east-1"],
    ["South America (Sao Paulo)", "sa-east-1"],
    ["Asia Pacific (Osaka-Local)", "ap-northeast-3"],
    ["Asia Pacific (New Zealand)", "ap-southeast-6"],
    ["AWS GovCloud (US)", "us-gov-west-1"],
    ["AWS GovCloud (US-East)", "us-gov-east-1"],
    ["China (Ningxia)", "cn-northwest-1"],
    ["  us east (n. virginia) ", "us-east-1"],
  ])("maps the display name %j to %s when the message has no ARN", (displayName, code) => {
    const alert = onlyAlert(run(snsEvent(alarmMessage({ AlarmArn: undefined, Region: displayName }))));
    expect(alert.labels.region).toBe(code);
    expect(alert.dedupKey).toBe(`cloudwatch:123456789012:${code}:prod-web-HighCPU`);
    expect(alert.details.warnings).toBeUndefined();
  });

  it("maps every display name in the table back to its code", () => {
    for (const [code, displayName] of Object.entries(REGION_DISPLAY_NAMES)) {
      expect(regionCodeFromDisplayName(displayName), displayName).toBe(code);
    }
  });

  it("takes the region code from the ARN when the display name is unknown", () => {
    const alert = onlyAlert(run(snsEvent(alarmMessage({ Region: "Atlantis (Central)" }))));
    expect(alert.labels.region).toBe("us-east-1");
    expect(alert.details.warnings).toBeUndefined();
  });

  it("keeps an unknown display name, warns, and links nowhere when there is no ARN either", () => {
    const alert = onlyAlert(run(snsEvent(alarmMessage({ AlarmArn: undefined, Region: "Atlantis  (Central)" }))));
    expect(alert.labels.region).toBe("Atlantis (Central)");
    expect(alert.dedupKey).toBe("cloudwatch:123456789012:Atlantis (Central):prod-web-HighCPU");
    expect(alert.details.warnings).toEqual([expect.stringContaining("regions.ts")]);
    expect(alert.links.map((l) => l.text)).not.toContain("CloudWatch alarm");
  });

  it("rejects a message with neither an ARN nor a Region", () => {
    const result = run(snsEvent(alarmMessage({ AlarmArn: undefined, Region: undefined })));
    expect(result).toMatchObject({ ok: false, rejection: { code: "wrong_shape", path: "Records.0.Sns.Message.Region" } });
  });

  it("links to each partition's console", () => {
    expect(consoleHost("eu-west-1")).toBe("eu-west-1.console.aws.amazon.com");
    expect(consoleHost("cn-north-1")).toBe("cn-north-1.console.amazonaws.cn");
    expect(consoleHost("us-gov-east-1")).toBe("us-gov-east-1.console.amazonaws-us-gov.com");
    expect(consoleHost("us-isob-east-1")).toBeUndefined();
    const alert = onlyAlert(run(snsEvent(alarmMessage({ AlarmName: "a/b #1" }))));
    expect(alert.links[0]).toEqual({
      href: "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/a%2Fb%20%231",
      text: "CloudWatch alarm",
    });
  });
});

describe("INSUFFICIENT_DATA", () => {
  const insufficient = (description: string) =>
    snsEvent(
      alarmMessage({
        NewStateValue: "INSUFFICIENT_DATA",
        NewStateReason: "Insufficient Data: 3 datapoints were unknown.",
        AlarmDescription: description,
      }),
    );

  it("sends no alert by default and says why in the notice", () => {
    const result = run(insufficient("disk almost full"));
    expect(result).toMatchObject({ ok: true, alerts: [] });
    const notice = result.ok ? result.notice : "";
    expect(notice).toContain("INSUFFICIENT_DATA");
    expect(notice).toContain("CLOUDWATCH_INSUFFICIENT_DATA=firing");
    expect(notice).toContain("never resolves");
  });

  it.each([
    ["firing", "firing"],
    ["resolved", "resolved"],
  ] as const)("becomes %s when CLOUDWATCH_INSUFFICIENT_DATA=%s", (setting, status) => {
    const alert = onlyAlert(run(insufficient("disk almost full"), { CLOUDWATCH_INSUFFICIENT_DATA: setting }));
    expect(alert.status).toBe(status);
    expect(alert.summary).toMatch(/^INSUFFICIENT_DATA: prod-web-HighCPU — Insufficient Data/);
    expect(alert.details.insufficientDataPolicy).toBe(`${setting} (from CLOUDWATCH_INSUFFICIENT_DATA)`);
  });

  it("follows a per-alarm marker over the setting, both ways", () => {
    expect(onlyAlert(run(insufficient("heartbeat.\ninsufficient_data: firing"))).status).toBe("firing");
    const ignored = run(insufficient("[insufficient-data=ignore]"), { CLOUDWATCH_INSUFFICIENT_DATA: "firing" });
    expect(ignored).toMatchObject({ ok: true, alerts: [] });
    expect(ignored.ok && ignored.notice).toContain("alarm description");
  });

  it("warns about an unknown marker value and applies the setting", () => {
    const alert = onlyAlert(run(insufficient("insufficient_data: page"), { CLOUDWATCH_INSUFFICIENT_DATA: "firing" }));
    expect(alert.status).toBe("firing");
    expect(alert.details.warnings).toEqual([expect.stringContaining('marker "page"')]);
  });

  it("never lets the default resolve an open incident", () => {
    const result = run(insufficient("severity: critical"));
    expect(result.ok && result.alerts.some((a) => a.status === "resolved")).toBe(false);
  });

  it("reads INSUFFICIENT_DATA from EventBridge and alarm actions the same way", () => {
    const event = eventBridgeEvent({ state: { value: "INSUFFICIENT_DATA", reason: "Insufficient Data: 1 datapoint was unknown." } });
    expect(run(event)).toMatchObject({ ok: true, alerts: [] });
    expect(onlyAlert(run(event, { CLOUDWATCH_INSUFFICIENT_DATA: "firing" })).status).toBe("firing");
  });
});

describe("settings", () => {
  it("defaults to severity error and ignoring INSUFFICIENT_DATA", () => {
    expect(cloudwatch.config({})).toEqual({ defaultSeverity: "error", insufficientData: "ignore" });
  });

  it("fails loudly on a typo", () => {
    expect(() => cloudwatch.config({ CLOUDWATCH_DEFAULT_SEVERITY: "severe" })).toThrow(/CLOUDWATCH_DEFAULT_SEVERITY="severe"/);
    expect(() => cloudwatch.config({ CLOUDWATCH_INSUFFICIENT_DATA: "page" })).toThrow(
      /CLOUDWATCH_INSUFFICIENT_DATA="page".*ignore, firing, resolved/,
    );
  });
});

describe("description markers", () => {
  it.each([
    ["severity: critical", "critical"],
    ["CPU high. SEVERITY=Warning", "warning"],
    ["[severity:p1] checkout", "critical"],
    ["Severity: high", "error"],
    ['severity: "info"', "info"],
    ["severity: warning, later severity: critical", "warning"],
    ["subseverity: critical", "error"],
    ["no marker at all", "error"],
  ])("reads %j as %s", (description, severity) => {
    expect(onlyAlert(run(withDescription(description))).severity).toBe(severity);
  });

  it("uses CLOUDWATCH_DEFAULT_SEVERITY without a marker, also for a null description", () => {
    const alert = onlyAlert(run(withDescription(null), { CLOUDWATCH_DEFAULT_SEVERITY: "warning" }));
    expect(alert.severity).toBe("warning");
    expect(alert.details.description).toBeUndefined();
  });

  it("warns about an unknown severity word and keeps the default", () => {
    const alert = onlyAlert(run(withDescription("severity: hoch")));
    expect(alert.severity).toBe("error");
    expect(alert.details.warnings).toEqual([expect.stringContaining('marker "hoch"')]);
  });

  it("reads class, team, service and env, and groups by service", () => {
    const alert = onlyAlert(run(withDescription("Disk filling up.\nclass: disk-full\nteam=storage; service: blob-api env: staging")));
    expect(alert.class).toBe("disk-full");
    expect(alert.labels).toMatchObject({ team: "storage", service: "blob-api", env: "staging" });
    expect(alert.group).toBe("blob-api");
  });

  it("groups by account and region without a service marker", () => {
    expect(onlyAlert(run(withDescription("team: storage"))).group).toBe("123456789012/us-east-1");
  });

  it("links the runbook and other URLs from the description", () => {
    const alert = onlyAlert(
      run(withDescription("runbook: https://wiki.example.com/rb/cpu. Dashboard (https://grafana.example.com/d/abc).")),
    );
    expect(alert.links.slice(1)).toEqual([
      { href: "https://wiki.example.com/rb/cpu", text: "Runbook" },
      { href: "https://grafana.example.com/d/abc", text: "Link from the alarm description" },
    ]);
  });

  it("does not let a severity dimension outrank the severity marker", () => {
    const message = alarmMessage({ AlarmDescription: "severity: critical" });
    (message.Trigger as Json).Dimensions = [{ name: "severity", value: "info" }];
    const alert = onlyAlert(run(snsEvent(message)));
    expect(alert.severity).toBe("critical");
    expect(alert.labels.dimension_severity).toBe("info");
  });

  it("does not let a dimension shadow the adapter's own labels", () => {
    const message = alarmMessage();
    (message.Trigger as Json).Dimensions = [
      { name: "region", value: "moon-1" },
      { name: "InstanceId", value: "i-1" },
    ];
    const alert = onlyAlert(run(snsEvent(message)));
    expect(alert.labels.region).toBe("us-east-1");
    expect(alert.labels.InstanceId).toBe("i-1");
  });
});

describe("SNS events with several records", () => {
  const second = alarmMessage({ AlarmName: "orders-db-cpu", AlarmArn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-db-cpu" });

  it("produces one alert per record, in order", () => {
    const alerts = alertsOf(run(fixture("sns-batch.three-records.json")));
    expect(alerts.map((a) => a.labels.alertname)).toEqual([
      "fulfilment-queue-backlog",
      "fulfilment-dlq-backlog",
      "orders-table-write-throttles",
    ]);
    expect(new Set(alerts.map((a) => a.dedupKey)).size).toBe(3);
  });

  it("rejects the event naming the record whose Message is not JSON", () => {
    const result = run(snsEvent(alarmMessage(), "Test message from the console", second));
    expect(result).toMatchObject({ ok: false, rejection: { code: "wrong_shape", path: "Records.1.Sns.Message" } });
  });

  it("rejects the event naming the record whose Message is JSON but no alarm", () => {
    const result = run(snsEvent(alarmMessage(), { hello: "world" }));
    expect(result).toMatchObject({ ok: false, rejection: { path: "Records.1.Sns.Message" } });
    expect(!result.ok && result.rejection.message).toContain("not a CloudWatch alarm");
  });

  it("names the field inside the Message that is wrong", () => {
    const result = run(snsEvent(alarmMessage(), alarmMessage({ NewStateValue: "PENDING" })));
    expect(result).toMatchObject({ ok: false, rejection: { code: "unsupported_event", path: "Records.1.Sns.Message.NewStateValue" } });
  });

  it("keeps the other records' alerts when one is an ignored INSUFFICIENT_DATA", () => {
    const result = run(
      snsEvent(alarmMessage(), alarmMessage({ AlarmName: "quiet", AlarmArn: undefined, NewStateValue: "INSUFFICIENT_DATA" })),
    );
    expect(alertsOf(result)).toHaveLength(1);
    expect(result.ok && result.notice).toContain('"quiet"');
  });

  it("rejects an empty or non-SNS record list", () => {
    expect(run({ Records: [] })).toMatchObject({ ok: false, rejection: { path: "Records" } });
    expect(run({ Records: [{ eventSource: "aws:sqs", body: "{}" }] })).toMatchObject({
      ok: false,
      rejection: { path: "Records.0.EventSource" },
    });
  });
});

describe("SNS HTTP subscription handshake", () => {
  it("answers a SubscriptionConfirmation with how to confirm, fetching nothing", () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const body = fixture("topic.sns-subscription-confirmation.json");
    const result = run(body);
    expect(result).toMatchObject({ ok: true, alerts: [] });
    const notice = result.ok ? (result.notice ?? "") : "";
    expect(notice).toContain(String(body.SubscribeURL));
    expect(notice).toContain(
      `aws sns confirm-subscription --region us-east-1 --topic-arn ${String(body.TopicArn)} --token ${String(body.Token)}`,
    );
    expect(notice).not.toContain("Caution");
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("warns when the SubscribeURL is not an SNS endpoint", () => {
    const body = { ...fixture("topic.sns-subscription-confirmation.json"), SubscribeURL: "https://sns.example.com/confirm?token=x" };
    const result = run(body);
    expect(result.ok && result.notice).toContain("Caution");
  });

  it("explains an UnsubscribeConfirmation", () => {
    const body = { ...fixture("topic.sns-subscription-confirmation.json"), Type: "UnsubscribeConfirmation" };
    const result = run(body);
    expect(result).toMatchObject({ ok: true, alerts: [] });
    expect(result.ok && result.notice).toContain("unsubscribed");
  });

  it("rejects an unknown SNS message type", () => {
    expect(run({ Type: "Surprise", TopicArn: "arn:aws:sns:us-east-1:123456789012:t", Message: "{}" })).toMatchObject({
      ok: false,
      rejection: { code: "unsupported_event", path: "Type" },
    });
  });
});

describe("alarm kinds", () => {
  it("describes a metric-math alarm by its metrics and keeps the expressions in details", () => {
    const alert = onlyAlert(run(fixture("lambda-error-rate.sns-http-alarm.json")));
    expect(alert.labels).toMatchObject({
      alarm_type: "metric-math",
      namespace: "AWS/Lambda",
      metric: "Errors,Invocations",
      FunctionName: "checkout-api",
    });
    const trigger = alert.details.trigger as { Metrics: { Expression?: string }[]; TreatMissingData: string };
    expect(trigger.Metrics[0]!.Expression).toBe("100 * errors / invocations");
    expect(trigger.TreatMissingData).toBe("notBreaching");
    expect(alert.sourceHost).toBe("checkout-api");
  });

  it("recognises an anomaly-detection alarm and names its metric", () => {
    const alert = onlyAlert(run(fixture("latency-anomaly.sns-alarm.json")));
    expect(alert.labels).toMatchObject({ alarm_type: "anomaly-detection", metric: "TargetResponseTime", namespace: "AWS/ApplicationELB" });
    expect(alert.severity).toBe("error");
  });

  it("carries a composite alarm's rule, triggering alarms and suppression", () => {
    const alert = onlyAlert(run(fixture("checkout-degraded.eventbridge-suppressed.json")));
    expect(alert.labels).toMatchObject({ alarm_type: "composite", actions_suppressed_by: "Alarm" });
    expect(alert.details).toMatchObject({
      alarmRule: "ALARM(prod-web-HighCPU) OR ALARM(checkout-api-5xx)",
      actionsSuppressedBy: "Alarm",
      reasonData: { triggeringAlarms: [{ arn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-web-HighCPU" }] },
    });
    expect(alert.summary).toMatch(/^ALARM \(CloudWatch actions suppressed by Alarm\): checkout-degraded — /);
    expect(alert.component).toBeUndefined();
    expect(alert.sourceHost).toBe("checkout-degraded");
  });

  it("resolves a composite alarm arriving by SNS under the key it fired with by EventBridge", () => {
    const fired = onlyAlert(run(fixture("checkout-degraded.eventbridge-suppressed.json")));
    const resolved = onlyAlert(run(fixture("checkout-degraded.sns-ok.json")));
    expect(resolved.status).toBe("resolved");
    expect(resolved.dedupKey).toBe(fired.dedupKey);
    expect(resolved.details.alarmRule).toBe(fired.details.alarmRule);
  });
});

describe("bounds", () => {
  const longName = "n".repeat(250) + "-tail";
  const longReason = `Threshold Crossed: ${"92.1 (26/11/26 17:38:00), ".repeat(60)}`;

  it("keeps the summary within 1024 and the dedupKey within 255 for a 255-character alarm name", () => {
    const alert = onlyAlert(
      run(
        snsEvent(
          alarmMessage({ AlarmName: longName, AlarmArn: undefined, NewStateReason: longReason, AlarmDescription: "x".repeat(1024) }),
        ),
      ),
    );
    expect(longName).toHaveLength(255);
    expect(alert.summary.length).toBeLessThanOrEqual(1024);
    expect(alert.summary.startsWith(`ALARM: ${longName} — Threshold Crossed`)).toBe(true);
    expect(alert.dedupKey.length).toBeLessThanOrEqual(255);
  });

  it("bounds long names to the same dedupKey on every path, and keeps distinct long names apart", () => {
    const arn = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${longName}`;
    const viaSns = onlyAlert(run(snsEvent(alarmMessage({ AlarmName: longName, AlarmArn: arn }))));
    const event = eventBridgeEvent({ top: { resources: [arn] } });
    (event.detail as Json).alarmName = longName;
    expect(onlyAlert(run(event)).dedupKey).toBe(viaSns.dedupKey);
    const sibling = onlyAlert(run(snsEvent(alarmMessage({ AlarmName: `${longName.slice(0, -1)}X`, AlarmArn: undefined }))));
    expect(sibling.dedupKey).not.toBe(viaSns.dedupKey);
  });

  it("falls back to receivedAt for a state time the contract cannot hold (past year 9999)", () => {
    const alert = onlyAlert(run(snsEvent(alarmMessage({ StateChangeTime: 1e15 }))));
    expect(alert.occurredAt).toBe(RECEIVED_AT);
  });

  it("keeps details within the contract for a huge reasonData", () => {
    const alert = onlyAlert(
      run(eventBridgeEvent({ state: { reasonData: JSON.stringify({ recentDatapoints: Array.from({ length: 5000 }, (_, i) => i) }) } })),
    );
    expect(JSON.stringify(alert.details).length).toBeLessThanOrEqual(32_768);
  });
});

describe("rejections", () => {
  it.each([
    ["a string", "ALARM", ""],
    ["an unrelated object", { hello: "world" }, ""],
    ["another EventBridge source", { ...fixture("high-cpu.eventbridge-alarm.json"), source: "aws.ec2" }, "source"],
    [
      "an alarm configuration change",
      { ...fixture("high-cpu.eventbridge-alarm.json"), "detail-type": "CloudWatch Alarm Configuration Change" },
      "detail-type",
    ],
    ["an EventBridge event without a state", { ...fixture("high-cpu.eventbridge-alarm.json"), detail: { alarmName: "x" } }, "detail.state"],
    ["an alarm action without alarmData", { ...fixture("high-cpu.alarm-action-alarm.json"), alarmData: null }, "alarmData"],
  ])("rejects %s, naming where", (_what, payload, path) => {
    const result = run(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.rejection.path).toBe(path);
      expect(result.rejection.message.length).toBeGreaterThan(10);
    }
  });
});
