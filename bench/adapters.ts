/**
 * Adapter throughput: normalized alerts per second on one core, and the cost of normalizing a
 * payload relative to JSON.parse of the same bytes (what a webhook must do anyway).
 * Targets (issue 2): Alertmanager ≥ 100,000 alerts/s and ratio ≤ 3, where alerts/s counts the
 * JSON.parse too (bytes in → alerts out) and the ratio is normalize time ÷ JSON.parse time.
 * The stricter (parse + normalize) ÷ parse is printed beside it.
 */
import { adapters } from "../lib/adapters/registry.ts";
import { parseAlert } from "../lib/alert/schema.ts";
import { loadFixtures } from "../test/support/fixtures.ts";
import { fmt, measure, table, verdict } from "./harness.ts";

const RECEIVED_AT = "2026-11-26T18:00:00.000Z";

/** A typical Alertmanager notification: one group of 10 firing alerts, labels and annotations as real rules have them. */
export function typicalAlertmanagerGroup(size = 10): string {
  const alerts = Array.from({ length: size }, (_, i) => ({
    status: "firing",
    labels: {
      alertname: "HighRequestLatency",
      severity: "critical",
      service: "checkout",
      team: "payments",
      env: "prod",
      region: "eu-west-1",
      instance: `web-${i}.prod.example.com:9100`,
      job: "node",
    },
    annotations: {
      summary: `p99 latency above 500ms on web-${i}`,
      description: "The 99th percentile of request latency has been above 500ms for 10 minutes.",
      runbook_url: "https://runbooks.example.com/latency",
    },
    startsAt: "2026-11-26T17:40:00.000Z",
    endsAt: "0001-01-01T00:00:00Z",
    generatorURL: `https://prometheus.example.com/graph?g0.expr=latency_p99%3E0.5&i=${i}`,
    fingerprint: (0x1000000000000000n + BigInt(i)).toString(16),
  }));
  return JSON.stringify({
    version: "4",
    groupKey: '{}:{alertname="HighRequestLatency"}',
    truncatedAlerts: 0,
    status: "firing",
    receiver: "alert-relay",
    groupLabels: { alertname: "HighRequestLatency" },
    commonLabels: { alertname: "HighRequestLatency", service: "checkout" },
    commonAnnotations: {},
    externalURL: "https://alertmanager.example.com",
    alerts,
  });
}

interface Case {
  adapter: string;
  name: string;
  text: string;
}

function cases(): Case[] {
  const list: Case[] = [{ adapter: "prometheus", name: "typical group of 10", text: typicalAlertmanagerGroup() }];
  for (const adapter of adapters) {
    for (const fixture of loadFixtures(adapter.name)) {
      const result = adapter.normalize(fixture.payload, { receivedAt: RECEIVED_AT, config: adapter.config({}) });
      if (result.ok && result.alerts.length > 0)
        list.push({ adapter: adapter.name, name: fixture.file, text: JSON.stringify(fixture.payload) });
    }
  }
  return list;
}

export function benchAdapters(seconds: number): string[] {
  const lines: string[] = [];
  const rows: string[][] = [
    [
      "adapter",
      "payload",
      "alerts/payload",
      "alerts/s (parse+normalize)",
      "alerts/s (+validate)",
      "normalize ÷ parse",
      "(parse+normalize) ÷ parse",
    ],
  ];
  const perAdapter = new Map<string, { alerts: number; normalizeSeconds: number; parseSeconds: number }>();
  let typical: { perSecond: number; ratio: number; strictRatio: number } | undefined;
  for (const c of cases()) {
    const adapter = adapters.find((a) => a.name === c.adapter)!;
    const config = adapter.config({});
    const ctx = { receivedAt: RECEIVED_AT, config };
    const sample = adapter.normalize(JSON.parse(c.text), ctx);
    if (!sample.ok) continue;
    const count = sample.alerts.length;
    const parseOnly = measure(() => JSON.parse(c.text), seconds);
    const parsed: unknown = JSON.parse(c.text);
    const normalizeOnly = measure(() => adapter.normalize(parsed, ctx), seconds);
    const parseAndNormalize = measure(() => adapter.normalize(JSON.parse(c.text), ctx), seconds);
    const withValidation = measure(() => {
      const result = adapter.normalize(JSON.parse(c.text), ctx);
      if (result.ok) for (const alert of result.alerts) parseAlert(alert);
    }, seconds);
    const ratio = parseOnly.perSecond / normalizeOnly.perSecond;
    const strictRatio = parseOnly.perSecond / parseAndNormalize.perSecond;
    const alertsPerSecond = parseAndNormalize.perSecond * count;
    rows.push([
      c.adapter,
      c.name,
      String(count),
      fmt(alertsPerSecond),
      fmt(withValidation.perSecond * count),
      fmt(ratio, 2),
      fmt(strictRatio, 2),
    ]);
    if (c.name === "typical group of 10") typical = { perSecond: alertsPerSecond, ratio, strictRatio };
    const total = perAdapter.get(c.adapter) ?? { alerts: 0, normalizeSeconds: 0, parseSeconds: 0 };
    total.alerts += count;
    total.normalizeSeconds += 1 / normalizeOnly.perSecond;
    total.parseSeconds += 1 / parseOnly.perSecond;
    perAdapter.set(c.adapter, total);
  }
  lines.push("Adapters: parse + normalize on one core (alerts/s counts JSON.parse too)", table(rows), "");
  const summary: string[][] = [["adapter", "alerts/s over its fixtures (normalize only)", "normalize ÷ parse"]];
  for (const [name, t] of perAdapter) summary.push([name, fmt(t.alerts / t.normalizeSeconds), fmt(t.normalizeSeconds / t.parseSeconds, 2)]);
  lines.push(table(summary), "");
  if (typical) {
    lines.push(
      `Target: Alertmanager ≥ 100,000 alerts/s → ${fmt(typical.perSecond)} alerts/s  ${verdict(typical.perSecond >= 100_000)}`,
      `Target: normalize ÷ JSON.parse ≤ 3 → ${fmt(typical.ratio, 2)}  ` +
        `${verdict(typical.ratio <= 3)}   (stricter (parse+normalize) ÷ parse: ${fmt(typical.strictRatio, 2)})`,
      "",
    );
  }
  return lines;
}
