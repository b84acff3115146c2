import { describe, expect, it } from "vitest";
import { labelSetFingerprint, prometheus, type PrometheusConfig } from "../../../../lib/adapters/prometheus/adapter.ts";
import { parseAlert, type NormalizedAlert } from "../../../../lib/alert/schema.ts";
import { LIMITS } from "../../../../lib/alert/limits.ts";
import type { Rejection } from "../../../../lib/adapters/types.ts";
import { loadFixtures } from "../../../support/fixtures.ts";

const RECEIVED_AT = "2026-11-26T18:00:00.000Z";
const DEFAULT_CONFIG = prometheus.config({});

type Alert = Record<string, unknown>;

function alertOf(overrides: Alert = {}): Alert {
  return {
    status: "firing",
    labels: { alertname: "HighLatency", severity: "critical", service: "checkout", instance: "web-1:9100", job: "node", team: "payments" },
    annotations: {
      summary: "p99 latency above 500ms",
      description: "Latency has been high for 10 minutes.",
      runbook_url: "https://runbooks.example.com/latency",
    },
    startsAt: "2026-11-26T17:40:00Z",
    endsAt: "0001-01-01T00:00:00Z",
    generatorURL: "http://prometheus.example.com:9090/graph?g0.expr=up",
    ...overrides,
  };
}

function payloadOf(alerts: Alert[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: "4",
    groupKey: '{}:{alertname="HighLatency"}',
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
    receiver: "alert-relay",
    groupLabels: { alertname: "HighLatency" },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "https://alertmanager.example.com",
    alerts,
    ...overrides,
  };
}

function normalize(payload: unknown, config: PrometheusConfig = DEFAULT_CONFIG, receivedAt = RECEIVED_AT) {
  return prometheus.normalize(payload, { receivedAt, config });
}

function alertsOf(payload: unknown, config?: PrometheusConfig): NormalizedAlert[] {
  const result = normalize(payload, config);
  if (!result.ok) throw new Error(`unexpected rejection at ${result.rejection.path}: ${result.rejection.message}`);
  for (const alert of result.alerts) parseAlert(alert);
  return result.alerts;
}

function only(payload: unknown, config?: PrometheusConfig): NormalizedAlert {
  const alerts = alertsOf(payload, config);
  expect(alerts).toHaveLength(1);
  return alerts[0]!;
}

function rejectionOf(payload: unknown): Rejection {
  const result = normalize(payload);
  if (result.ok) throw new Error("expected a rejection");
  return result.rejection;
}

const COMPUTE = prometheus.config({ PROMETHEUS_FINGERPRINT: "compute" });

describe("status", () => {
  it("gives each alert of a mixed group its own status", () => {
    const alerts = alertsOf(
      payloadOf([
        alertOf({ labels: { alertname: "DiskFull", instance: "db-1" } }),
        alertOf({ status: "resolved", labels: { alertname: "DiskFull", instance: "db-2" }, endsAt: "2026-11-26T17:52:10Z" }),
        alertOf({ labels: { alertname: "DiskFull", instance: "db-3" } }),
      ]),
    );
    expect(alerts.map((a) => [a.sourceHost, a.status])).toEqual([
      ["db-1", "firing"],
      ["db-2", "resolved"],
      ["db-3", "firing"],
    ]);
  });

  it("reads the captured mixed group the same way", () => {
    const fixture = loadFixtures("prometheus").find((f) => f.file === "disk-almost-full.mixed-firing-resolved.json")!;
    expect(alertsOf(fixture.payload).map((a) => a.status)).toEqual(["firing", "resolved", "firing"]);
  });

  it("falls back to the group status for an alert without one", () => {
    const { status: _status, ...withoutStatus } = alertOf();
    expect(only(payloadOf([withoutStatus], { status: "firing" })).status).toBe("firing");
  });
});

describe("dedupKey", () => {
  const firing = alertOf();
  const resolved = alertOf({ status: "resolved", endsAt: "2026-11-26T17:55:00Z" });

  it.each([
    ["payload", DEFAULT_CONFIG],
    ["compute", COMPUTE],
  ] as const)("is the same for firing and resolved of one label set (fingerprint from %s)", (_mode, config) => {
    const key = only(payloadOf([firing]), config).dedupKey;
    expect(only(payloadOf([resolved]), config).dedupKey).toBe(key);
    expect(key).toMatch(/^prometheus:HighLatency:[0-9a-f]{16}$/);
  });

  it("differs for different label sets, even when only one value differs", () => {
    const one = only(payloadOf([alertOf()]), COMPUTE).dedupKey;
    const other = only(payloadOf([alertOf({ labels: { ...(firing.labels as object), instance: "web-2:9100" } })]), COMPUTE).dedupKey;
    expect(other).not.toBe(one);
  });

  it("does not depend on label order", () => {
    const labels = firing.labels as Record<string, string>;
    const reversed = Object.fromEntries(Object.entries(labels).reverse());
    expect(only(payloadOf([alertOf({ labels: reversed })]), COMPUTE).dedupKey).toBe(
      only(payloadOf([alertOf({ labels })]), COMPUTE).dedupKey,
    );
  });

  it("is the same whether Alertmanager sent a fingerprint or not", () => {
    const { fingerprint: _none, ...withoutFingerprint } = alertOf();
    const computed = only(payloadOf([withoutFingerprint])).dedupKey;
    const fingerprint = labelSetFingerprint(firing.labels as Record<string, string>);
    expect(only(payloadOf([alertOf({ fingerprint })])).dedupKey).toBe(computed);
    expect(computed.endsWith(fingerprint)).toBe(true);
  });

  it("computes Alertmanager's own fingerprint for every captured alert (ASCII, unicode, 80+ labels)", () => {
    let checked = 0;
    for (const fixture of loadFixtures("prometheus")) {
      if (!normalize(fixture.payload).ok) continue;
      for (const alert of (fixture.payload as { alerts: { labels: Record<string, string>; fingerprint?: string }[] }).alerts) {
        if (alert.fingerprint === undefined) continue;
        expect(labelSetFingerprint(alert.labels), fixture.file).toBe(alert.fingerprint);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it("ignores a fingerprint that is not Alertmanager's form, and any fingerprint in compute mode", () => {
    const computed = only(payloadOf([alertOf()]), COMPUTE).dedupKey;
    expect(only(payloadOf([alertOf({ fingerprint: "not-a-fingerprint" })])).dedupKey).toBe(computed);
    expect(only(payloadOf([alertOf({ fingerprint: "0123456789abcdef" })]), COMPUTE).dedupKey).toBe(computed);
    expect(only(payloadOf([alertOf({ fingerprint: "0123456789abcdef" })])).dedupKey).toBe("prometheus:HighLatency:0123456789abcdef");
  });

  it("hashes lone surrogates like Go (as U+FFFD) and stays within 255 characters for a huge alertname", () => {
    expect(labelSetFingerprint({ a: "\ud800" })).toBe(labelSetFingerprint({ a: "\ufffd" }));
    const alert = only(payloadOf([alertOf({ labels: { alertname: "X".repeat(5000), instance: "web-1" } })]));
    expect(alert.dedupKey.length).toBeLessThanOrEqual(LIMITS.dedupKeyChars);
    expect(alert.dedupKey.startsWith("prometheus:XXXX")).toBe(true);
  });
});

describe("id", () => {
  const base = alertOf();

  it("is the same for a repeat of one firing episode, whatever the group or receiver", () => {
    const first = only(payloadOf([base])).id;
    expect(only(payloadOf([base], { receiver: "other", groupKey: "{}:{}", status: "firing" })).id).toBe(first);
    expect(only(payloadOf([alertOf({ startsAt: "2026-11-26T17:40:00.000Z" })])).id).toBe(first);
  });

  it("differs for a new firing episode and for the resolve", () => {
    const first = only(payloadOf([base])).id;
    expect(only(payloadOf([alertOf({ startsAt: "2026-11-26T17:58:00Z" })])).id).not.toBe(first);
    expect(only(payloadOf([alertOf({ status: "resolved", endsAt: "2026-11-26T17:55:00Z" })])).id).not.toBe(first);
  });
});

describe("occurredAt", () => {
  it("is startsAt when firing and endsAt when resolved", () => {
    expect(only(payloadOf([alertOf()])).occurredAt).toBe("2026-11-26T17:40:00.000Z");
    expect(only(payloadOf([alertOf({ status: "resolved", endsAt: "2026-11-26T17:55:30.5Z" })])).occurredAt).toBe(
      "2026-11-26T17:55:30.500Z",
    );
  });

  it("falls back to receivedAt when the time is missing, unset or unreadable", () => {
    expect(only(payloadOf([alertOf({ startsAt: undefined })])).occurredAt).toBe(RECEIVED_AT);
    expect(only(payloadOf([alertOf({ status: "resolved", endsAt: "0001-01-01T00:00:00Z" })])).occurredAt).toBe(RECEIVED_AT);
    expect(only(payloadOf([alertOf({ startsAt: "yesterday" })])).occurredAt).toBe(RECEIVED_AT);
  });
});

describe("severity", () => {
  it.each([
    ["critical", "critical"],
    ["page", "critical"],
    ["high", "error"],
    ["error", "error"],
    ["medium", "warning"],
    ["warning", "warning"],
    ["low", "info"],
    ["info", "info"],
    [" CRIT ", "critical"],
  ])("maps severity=%j to %s", (word, expected) => {
    expect(only(payloadOf([alertOf({ labels: { alertname: "X", severity: word } })])).severity).toBe(expected);
  });

  it("uses the configured default for a missing or unknown word, and says so for an unknown one", () => {
    expect(only(payloadOf([alertOf({ labels: { alertname: "X" } })])).severity).toBe("warning");
    const unknown = only(payloadOf([alertOf({ labels: { alertname: "X", severity: "sev9" } })]));
    expect(unknown.severity).toBe("warning");
    expect(unknown.details.unrecognizedSeverity).toContain('"sev9"');
    const config = prometheus.config({ PROMETHEUS_DEFAULT_SEVERITY: "Critical" });
    expect(only(payloadOf([alertOf({ labels: { alertname: "X" } })]), config).severity).toBe("critical");
  });

  it("rejects a bad setting with the variable's name", () => {
    expect(() => prometheus.config({ PROMETHEUS_DEFAULT_SEVERITY: "urgent" })).toThrow(
      /PROMETHEUS_DEFAULT_SEVERITY="urgent".*critical, error, warning, info/,
    );
    expect(() => prometheus.config({ PROMETHEUS_FINGERPRINT: "trust" })).toThrow(/PROMETHEUS_FINGERPRINT="trust".*payload, compute/);
  });

  it("survives more labels than the contract keeps", () => {
    const labels: Record<string, string> = { alertname: "Wide" };
    for (let i = 0; i < 90; i += 1) labels[`a_${String(i).padStart(2, "0")}`] = `v${i}`;
    Object.assign(labels, { severity: "page", team: "payments", service: "checkout" });
    const alert = only(payloadOf([alertOf({ labels })]));
    expect(alert.severity).toBe("critical");
    expect(Object.keys(alert.labels)).toHaveLength(LIMITS.labels);
    expect(alert.labels).toMatchObject({ alertname: "Wide", severity: "page", team: "payments", service: "checkout" });
    expect(Object.keys(alert.details.labelsOverLimit as object)).toHaveLength(94 - LIMITS.labels);
  });
});

describe("summary", () => {
  const labels = { alertname: "HighLatency", severity: "critical", service: "checkout", instance: "web-1" };

  it("prefers summary, then description, then message", () => {
    expect(only(payloadOf([alertOf({ labels, annotations: { summary: "S", description: "D", message: "M" } })])).summary).toBe("S");
    expect(only(payloadOf([alertOf({ labels, annotations: { summary: "  ", description: "D\n  more", message: "M" } })])).summary).toBe(
      "D more",
    );
    expect(only(payloadOf([alertOf({ labels, annotations: { message: "M" } })])).summary).toBe("M");
  });

  it("falls back to the alertname and the labels that tell alerts apart", () => {
    expect(only(payloadOf([alertOf({ labels, annotations: {} })])).summary).toBe("HighLatency (service=checkout, instance=web-1)");
    expect(
      only(payloadOf([alertOf({ labels: { alertname: "Odd", severity: "low", zone: "a", rack: "7" }, annotations: undefined })])).summary,
    ).toBe("Odd (zone=a, rack=7)");
    expect(only(payloadOf([alertOf({ labels: { alertname: "Watchdog" }, annotations: null })])).summary).toBe("Watchdog");
    expect(only(payloadOf([alertOf({ labels: { job: "x" }, annotations: {} })])).summary).toBe("Alertmanager alert (job=x)");
  });

  it("is cut to 1024 characters", () => {
    const alert = only(payloadOf([alertOf({ annotations: { summary: "word ".repeat(1000) } })]));
    expect(alert.summary.length).toBe(LIMITS.summaryChars);
    expect(alert.summary.endsWith("…")).toBe(true);
  });
});

describe("description fields", () => {
  it("links the runbook, dashboard, the Prometheus graph and Alertmanager, dropping what is not a URL", () => {
    const alert = only(
      payloadOf([
        alertOf({
          annotations: {
            summary: "S",
            runbook_url: "https://runbooks.example.com/x",
            dashboard: "not a url",
            dashboard_url: "https://grafana.example.com/d/1",
          },
          generatorURL: "",
        }),
      ]),
    );
    expect(alert.links).toEqual([
      { href: "https://runbooks.example.com/x", text: "Runbook" },
      { href: "https://grafana.example.com/d/1", text: "Dashboard" },
      { href: "https://alertmanager.example.com", text: "Alertmanager" },
    ]);
  });

  it("takes sourceHost from instance, then pod, node, host, job, the Alertmanager host", () => {
    const host = (labels: Record<string, string>, overrides: Record<string, unknown> = {}) =>
      only(payloadOf([alertOf({ labels: { alertname: "X", ...labels } })], overrides)).sourceHost;
    expect(host({ instance: "web-1:9100", pod: "p", job: "j" })).toBe("web-1:9100");
    expect(host({ pod: "api-7d9f", node: "n1", job: "j" })).toBe("api-7d9f");
    expect(host({ node: "n1", job: "j" })).toBe("n1");
    expect(host({ host: "h1", job: "j" })).toBe("h1");
    expect(host({ job: "kube-state-metrics" })).toBe("kube-state-metrics");
    expect(host({})).toBe("alertmanager.example.com");
    expect(host({}, { externalURL: undefined })).toBe("alertmanager");
  });

  it("takes component, group and class from labels, class defaulting to the alertname", () => {
    const alert = only(
      payloadOf([alertOf({ labels: { alertname: "PodCrash", service: "api", job: "ksm", namespace: "shop", cluster: "eu-1" } })]),
    );
    expect([alert.component, alert.group, alert.class]).toEqual(["api", "shop", "PodCrash"]);
    const custom = only(payloadOf([alertOf({ labels: { alertname: "PodCrash", job: "ksm", cluster: "eu-1", class: "capacity" } })]));
    expect([custom.component, custom.group, custom.class]).toEqual(["ksm", "eu-1", "capacity"]);
  });

  it("keeps the source's facts in details, and only those that are set", () => {
    const alert = only(payloadOf([alertOf({ fingerprint: "0123456789abcdef" })], { truncatedAlerts: 2 }));
    expect(alert.details).toEqual({
      annotations: {
        summary: "p99 latency above 500ms",
        description: "Latency has been high for 10 minutes.",
        runbook_url: "https://runbooks.example.com/latency",
      },
      startsAt: "2026-11-26T17:40:00Z",
      fingerprint: "0123456789abcdef",
      receiver: "alert-relay",
      groupKey: '{}:{alertname="HighLatency"}',
      externalURL: "https://alertmanager.example.com",
      truncatedAlerts: 2,
    });
  });

  it("keeps unicode in labels and text as sent", () => {
    const labels = { alertname: "Zahlung", service: "支付服务", team: "🔥-payments", note: "cafe\u0301" };
    const alert = only(payloadOf([alertOf({ labels, annotations: { summary: "🔥 支付服务 延迟过高 — e\u0301" } })]));
    expect(alert.labels).toEqual(labels);
    expect(alert.summary).toBe("🔥 支付服务 延迟过高 — e\u0301");
    expect(alert.component).toBe("支付服务");
    expect(alert.dedupKey).toBe(`prometheus:Zahlung:${labelSetFingerprint(labels)}`);
  });
});

describe("notices and tolerance", () => {
  it("says when Alertmanager truncated the group, and when a notification carries no alert", () => {
    const truncated = normalize(payloadOf([alertOf()], { truncatedAlerts: 3 }));
    expect(truncated.ok && truncated.notice).toMatch(/left 3 alert\(s\).*max_alerts/);
    const empty = normalize(payloadOf([]));
    expect(empty.ok && empty.alerts).toEqual([]);
    expect(empty.ok && empty.notice).toMatch(/no alerts/);
  });

  it("accepts other versions and unknown fields, noting a version other than 4", () => {
    const alert = only(
      payloadOf([alertOf({ someNewField: { x: 1 } })], {
        version: "5",
        notification_reason: "repeat",
        routeLabels: { team: "x" },
        status: "weird",
      }),
    );
    expect(alert.details.payloadVersion).toBe("5");
    expect(alert.status).toBe("firing");
  });
});

describe("rejections", () => {
  it.each([
    ["a non-object payload", [1, 2], "", /expected an Alertmanager webhook payload/],
    ["alerts missing", { version: "4" }, "alerts", /alerts must be an array.*got nothing/],
    ["alerts not an array", { alerts: { 0: alertOf() } }, "alerts", /alerts must be an array.*got an object/],
    [
      "an alert that is not an object",
      payloadOf([alertOf(), "oops" as unknown as Alert]),
      "alerts.1",
      /an alert must be an object.*"oops"/,
    ],
    ["an alert without labels", payloadOf([alertOf({ labels: undefined })]), "alerts.0.labels", /needs a labels object/],
    ["an alert with empty labels", payloadOf([alertOf({ labels: {} })]), "alerts.0.labels", /at least one label/],
    [
      "a label value that is not a string",
      payloadOf([alertOf(), alertOf(), alertOf({ labels: { alertname: "X", port: 9100 } })]),
      "alerts.2.labels.port",
      /label values must be strings, got number 9100/,
    ],
    [
      "an annotation value that is not a string",
      payloadOf([alertOf({ annotations: { summary: ["a"] } })]),
      "alerts.0.annotations.summary",
      /annotation values must be strings, got an array/,
    ],
    [
      "annotations that are not an object",
      payloadOf([alertOf({ annotations: "text" })]),
      "alerts.0.annotations",
      /annotations must be an object/,
    ],
    ["startsAt that is not a string", payloadOf([alertOf({ startsAt: 1795714800 })]), "alerts.0.startsAt", /expected a string, got number/],
    ["a negative truncatedAlerts", payloadOf([alertOf()], { truncatedAlerts: -1 }), "truncatedAlerts", /whole number/],
    ["an externalURL that is not a string", payloadOf([alertOf()], { externalURL: 42 }), "externalURL", /expected a string/],
  ])("rejects %s as wrong_shape at its path", (_what, payload, path, message) => {
    const rejection = rejectionOf(payload);
    expect(rejection.code).toBe("wrong_shape");
    expect(rejection.path).toBe(path);
    expect(rejection.message).toMatch(message);
  });

  it("rejects a status that is neither firing nor resolved as unsupported_event", () => {
    expect(rejectionOf(payloadOf([alertOf({ status: "pending" })]))).toEqual({
      code: "unsupported_event",
      message: 'status "pending" is neither firing nor resolved',
      path: "alerts.0.status",
    });
    expect(rejectionOf(payloadOf([alertOf({ status: undefined })], { status: undefined })).path).toBe("alerts.0.status");
  });
});
