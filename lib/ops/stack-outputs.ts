/**
 * The CloudFormation output keys the CDK stack publishes and the CLI reads to find a deployed
 * pipeline: one list, so the two cannot drift apart.
 */
export const STACK_OUTPUTS = {
  stateTable: "StateTableName",
  windowsTable: "WindowsTableName",
  alertsQueueUrl: "AlertsQueueUrl",
  deadLetterQueueUrl: "DeadLetterQueueUrl",
  webhookBaseUrl: "WebhookBaseUrl",
  alarmTopicArn: "AlarmTopicArn",
  /** The PagerDuty-compatible ingest's alert events endpoint (its change events sit beside it). */
  pagerDutyEventsUrl: "PagerDutyEventsUrl",
} as const;

/** `WebhookUrlPrometheus`, `WebhookUrlMyTool`: the full URL of one source's webhook. */
export function webhookUrlOutput(source: string): string {
  return `WebhookUrl${source
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("")}`;
}
