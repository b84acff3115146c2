/** Normalized alerts for router tests: one problem (`key`) at a point in time. */
import { buildAlert } from "../../lib/alert/build.ts";
import type { NormalizedAlert, Severity } from "../../lib/alert/schema.ts";
import type { ProblemState } from "../../lib/router/state.ts";

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

/** The state of a problem the router has seen once, with `alert` as its last alert; overrides win. */
export function stateSeenOnce(alert: NormalizedAlert, overrides: Partial<ProblemState> = {}): ProblemState {
  return {
    dedupKey: alert.dedupKey,
    source: alert.source,
    status: alert.status,
    severity: alert.severity,
    transitionAt: alert.occurredAt,
    eventAt: alert.occurredAt,
    firstSeenAt: alert.receivedAt,
    lastSeenAt: alert.receivedAt,
    lastAlertId: alert.id,
    lastAlert: alert,
    seen: 1,
    deduplicated: 0,
    suppressed: 0,
    stale: 0,
    ...overrides,
  };
}
