/**
 * The pipeline's shape, shared by the CDK stack and the local stack so both build the same thing:
 * resource names, the queue's redrive and the router's timing.
 */
import { STATE_TABLE } from "../state-table/table.ts";
import { WINDOWS_TABLE_KEY } from "../suppression/dynamo-window-store.ts";

export const PIPELINE = {
  /**
   * Receives before SQS moves a message to the DLQ: only a backstop. A message that must wait
   * comes back after a short backoff (lib/router/redelivery.ts, at most a minute apart) and is
   * dead-lettered by the router, with its reason, when older than GIVE_UP_AFTER_MINUTES (6 h), so
   * this is set high enough never to cut an outage short (SQS's maximum).
   */
  maxReceiveCount: 1000,
  /** The router Lambda's timeout; the queue's visibility timeout is 6× this (AWS's guidance for SQS event sources). */
  routerTimeoutSeconds: 60,
  visibilityTimeoutSeconds: 360,
  routerBatchSize: 10,
  deadLetterRetentionDays: 14,
  /** How often the sweep pages for problems whose suppression window ended (target ≤ 60 s). */
  sweepIntervalSeconds: 60,
  /** Suppression window changes take effect within this (per router instance) plus one table scan. */
  windowRefreshSeconds: 15,
} as const;

/** Names the local stack uses; the CDK stack lets CloudFormation name its resources and publishes them as outputs. */
export const LOCAL_RESOURCE_NAMES = {
  stateTable: "alert-relay-state",
  windowsTable: "alert-relay-windows",
  alertsQueue: "alert-relay-alerts",
  deadLetterQueue: "alert-relay-alerts-dlq",
} as const;

export { STATE_TABLE, WINDOWS_TABLE_KEY };
