/**
 * The environment of the router and sweep functions: built by routerEnvironment for both the CDK
 * stack and the local stack, read by router-runtime.ts through the same names.
 */

/** The variables the stacks set; the user's own settings (ROUTES_FILE, RETRY_BACKOFF_MAX, …) are docs/settings.md. */
export const ROUTER_ENV = {
  stateTableName: "STATE_TABLE_NAME",
  alertsQueueUrl: "ALERTS_QUEUE_URL",
  windowsTableName: "WINDOWS_TABLE_NAME",
  maxReceiveCount: "MAX_RECEIVE_COUNT",
  windowRefreshMs: "WINDOW_REFRESH_MS",
  resolvedRetentionDays: "RESOLVED_RETENTION_DAYS",
  pagerDutyRegion: "PAGERDUTY_REGION",
  routingKeysSecretPrefix: "ROUTING_KEYS_SECRET_PREFIX",
  routesJson: "ROUTES_JSON",
  deadLetterQueueUrl: "DLQ_URL",
  owedGrace: "OWED_GRACE",
} as const;

export interface RouterEnvironment {
  stateTableName: string;
  alertsQueueUrl: string;
  windowsTableName: string;
  maxReceiveCount: number;
  windowRefreshMs: number;
  resolvedRetentionDays?: number;
  pagerDutyRegion?: string;
  routingKeysSecretPrefix?: string;
  routesJson?: string;
  /** Only the router dead-letters (with a reason); the sweep has no queue. */
  deadLetterQueueUrl?: string;
  /** A duration such as "120s": how long a recorded change is left to its own message before the sweep delivers it. */
  owedGrace?: string;
}

/** The variables for these values, in ROUTER_ENV's order; an absent value sets nothing. */
export function routerEnvironment(values: RouterEnvironment): Record<string, string> {
  const entries = Object.entries(ROUTER_ENV).flatMap(([field, name]) => {
    const value = values[field as keyof RouterEnvironment];
    return value === undefined || value === "" ? [] : [[name, String(value)] as const];
  });
  return Object.fromEntries(entries);
}
