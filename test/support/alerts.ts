/** Normalized alerts for router tests: one problem (`key`) at a point in time. */
import { buildAlert } from "../../lib/alert/build.ts";
import type { NormalizedAlert, Severity } from "../../lib/alert/schema.ts";

export function alertAt(
  key: string,
  status: "firing" | "resolved",
  minute: number,
  options: { severity?: Severity; labels?: Record<string, string>; source?: string } = {},
): NormalizedAlert {
  const occurredAt = new Date(Date.UTC(2026, 10, 26, 17, 0) + minute * 60_000).toISOString();
  return buildAlert(
    {
      source: options.source ?? "echo",
      identity: key,
      status,
      severity: options.severity ?? "error",
      occurredAt,
      summary: [`${key} is ${status}`],
      labels: { alertname: key, ...options.labels },
    },
    { receivedAt: occurredAt },
  );
}
