/** A schema-valid normalized alert with every optional field set, for PagerDuty tests. */
import { parseAlert, type NormalizedAlert } from "../../lib/alert/schema.ts";

export const ROUTING_KEY = "R0aaaaaaaaaaaaaaaaaaaaaaaaaaaa7f";
export const OTHER_ROUTING_KEY = "R1bbbbbbbbbbbbbbbbbbbbbbbbbbbb9c";

export function sampleAlert(overrides: Partial<NormalizedAlert> = {}): NormalizedAlert {
  return parseAlert({
    schema: 1,
    id: "prometheus:0123456789abcdef0123456789abcdef",
    source: "prometheus",
    dedupKey: "prometheus:checkout:HighLatency",
    status: "firing",
    severity: "error",
    occurredAt: "2026-11-26T17:59:30.000Z",
    receivedAt: "2026-11-26T18:00:00.000Z",
    summary: "checkout p99 latency above 2 s",
    sourceHost: "checkout-7f9c.prod.example.com",
    component: "checkout-api",
    group: "payments",
    class: "latency",
    links: [{ href: "https://runbooks.example.com/checkout-latency", text: "Runbook" }],
    images: [{ src: "https://grafana.example.com/render/latency.png", href: "https://grafana.example.com/d/latency", alt: "p99 latency" }],
    details: { value: "2.4", expr: "histogram_quantile(0.99, ...) > 2" },
    labels: { alertname: "HighLatency", service: "checkout", env: "prod", team: "payments" },
    ...overrides,
  });
}
