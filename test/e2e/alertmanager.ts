/** Alertmanager webhook notifications (payload v4) for end-to-end tests, one alert each. */
export interface AlertSpec {
  alertname: string;
  status: "firing" | "resolved";
  /** 16 hex digits, Alertmanager's label-set hash; it ends the dedupKey. */
  fingerprint: string;
  startsAt: string;
  endsAt?: string;
  labels?: Record<string, string>;
  summary?: string;
}

export function dedupKeyOf(spec: Pick<AlertSpec, "alertname" | "fingerprint">): string {
  return `prometheus:${spec.alertname}:${spec.fingerprint}`;
}

export function notification(spec: AlertSpec): string {
  const labels = { alertname: spec.alertname, service: "checkout", env: "test", severity: "critical", ...spec.labels };
  return JSON.stringify({
    version: "4",
    status: spec.status,
    receiver: "alert-relay",
    groupKey: `{}:{alertname="${spec.alertname}"}`,
    groupLabels: { alertname: spec.alertname },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: "http://alertmanager.test:9093",
    alerts: [
      {
        status: spec.status,
        labels,
        annotations: { summary: spec.summary ?? `${spec.alertname} on checkout` },
        startsAt: spec.startsAt,
        endsAt: spec.endsAt ?? "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus.test:9090/graph",
        fingerprint: spec.fingerprint,
      },
    ],
  });
}

/** One notification carrying many alerts (Alertmanager groups alerts of one group into one webhook call). */
export function notificationOf(specs: readonly AlertSpec[]): string {
  const one = specs.map((spec) => JSON.parse(notification(spec)) as { alerts: unknown[] });
  return JSON.stringify({
    ...one[0],
    status: specs.some((spec) => spec.status === "firing") ? "firing" : "resolved",
    alerts: one.flatMap((n) => n.alerts),
  });
}
