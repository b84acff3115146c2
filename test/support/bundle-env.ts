/** Settings enough for any function's start-up code (an adapter's, the router's) to load without AWS: nothing is called at import. */
export function bundleLoadEnv(adapterName: string): Record<string, string> {
  return {
    AWS_REGION: "us-east-1",
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
    ADAPTER_NAME: adapterName,
    ALERTS_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/alerts",
    WEBHOOK_TOKEN_SECRET: "alert-relay/test/webhook-token",
    STATE_TABLE_NAME: "state",
    WINDOWS_TABLE_NAME: "windows",
    DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
    ROUTING_KEYS_SECRET_PREFIX: "alert-relay/test/routing-keys",
  };
}
