/** What `npm start` prints once the stack is up: where to send alerts, where things live, how to try it. */
import { relative, resolve } from "node:path";
import { DEFAULT_DATA_DIR } from "../ops/local-stack-file.ts";
import type { LocalStack } from "./stack.ts";
import { formatDuration } from "../platform/duration.ts";

const queueName = (url: string) => url.slice(url.lastIndexOf("/") + 1);

/** A firing Alertmanager notification (webhook payload v4) that needs no editing to send. */
export function sampleAlertmanagerPayload(status: "firing" | "resolved" = "firing"): string {
  const labels = { alertname: "HighLatency", service: "checkout", env: "dev", severity: "critical", instance: "web-1:9100" };
  return JSON.stringify({
    version: "4",
    status,
    receiver: "alert-relay",
    groupLabels: { alertname: labels.alertname },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: "http://alertmanager.local:9093",
    alerts: [
      {
        status,
        labels,
        annotations: { summary: "p99 latency above 500ms on web-1" },
        startsAt: "2026-01-01T00:00:00Z",
        endsAt: "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus.local:9090/graph",
        fingerprint: "5aa4fb786e987c2f",
      },
    ],
  });
}

export function sampleCurl(stack: Pick<LocalStack, "webhooks" | "settings">): string {
  const auth = stack.settings.webhookAuth ? ` -H "authorization: Bearer $WEBHOOK_TOKEN"` : "";
  return (
    `curl -sS -X POST ${stack.webhooks.prometheus ?? Object.values(stack.webhooks)[0]} -H ` +
    `'content-type: application/json'${auth} -d '${sampleAlertmanagerPayload()}'`
  );
}

export function banner(stack: LocalStack, cwd: string = process.cwd()): string {
  const shown = (path: string) => (path.startsWith(cwd) ? relative(cwd, path) || "." : path);
  const width = Math.max("changes".length, ...Object.keys(stack.webhooks).map((name) => name.length));
  const { settings } = stack;
  const lines = [
    `alert-relay local stack is up (pid ${stack.descriptor.pid})`,
    "",
    "Webhooks (POST):",
    ...Object.entries(stack.webhooks).map(([name, url]) => `  ${name.padEnd(width)}  ${url}`),
    `PagerDuty Events API v2 (POST, for any PagerDuty sender${settings.webhookAuth ? "; routing_key = $WEBHOOK_TOKEN" : ""}):`,
    `  ${"alerts".padEnd(width)}  ${stack.eventsApi.alerts}`,
    `  ${"changes".padEnd(width)}  ${stack.eventsApi.changes}`,
    `Health:   ${stack.healthzUrl}`,
    settings.webhookAuth
      ? `Auth:     webhooks require "Authorization: Bearer $WEBHOOK_TOKEN"`
      : `Auth:     off — set WEBHOOK_TOKEN to require "Authorization: Bearer <token>"`,
    "",
    ...pagerDutyLines(stack, shown),
    "",
    stack.inMemory
      ? "Data:     in memory (--in-memory): nothing survives a restart"
      : `Data:     ${shown(`${stack.dataDir}/dynamodb`)} — state and windows survive restarts, and accepted alerts ` +
        `survive a crash (journal ${shown(`${stack.dataDir}/queue-journal.jsonl`)}); the DLQ is in memory`,
    `DynamoDB: ${stack.endpoints.dynamodb}  tables ${stack.tables.state}, ${stack.tables.windows}`,
    `SQS:      ${stack.endpoints.sqs}  queues ${queueName(stack.queues.alerts)} → DLQ ${queueName(stack.queues.deadLetter)}`,
    `          visibility ${settings.visibilityTimeoutSeconds} s, retries back off to ` +
      `${formatDuration(settings.redelivery.maxMs)}, DLQ after ${formatDuration(settings.redelivery.giveUpAfterMs)}; ` +
      `sweep every ${settings.sweepIntervalMs / 1000} s; window changes apply within ${settings.windowRefreshMs / 1000} s`,
    ...stack.ignoredSettings.map(
      (name) => `Ignored:  ${name} (AWS only; locally keys and tokens come from the environment or ROUTING_KEYS_FILE)`,
    ),
    "",
    `The CLI finds this stack through ${shown(stack.stackFile)}, e.g.:`,
    "  npx alert-relay state list",
    ...(stack.dataDir === resolve(cwd, DEFAULT_DATA_DIR)
      ? []
      : [`  (not the default ${DEFAULT_DATA_DIR}/ the CLI looks in: point it at ${shown(stack.stackFile)})`]),
    "",
    'Try it (send it twice: the second is a duplicate; change both "firing" to "resolved" to resolve):',
    `  ${sampleCurl(stack)}`,
    "",
    "Ctrl-C stops everything.",
  ];
  return lines.join("\n");
}

function pagerDutyLines(stack: LocalStack, shown: (path: string) => string): string[] {
  const pd = stack.pagerDuty;
  if (pd.mode === "dry-run") {
    return [
      "PagerDuty: DRY RUN — no routing key is set, so nothing is sent.",
      `  Each event that would be sent is printed here and appended to ${shown(pd.outbox)}.`,
      "  Set PAGERDUTY_ROUTING_KEY (or PAGERDUTY_ROUTING_KEY_<NAME>, or ROUTING_KEYS_FILE) to send for real.",
    ];
  }
  return [
    `PagerDuty: LIVE → ${pd.endpoint}`,
    ...pd.keys.map(({ ref, envName, masked }) =>
      masked
        ? `  key "${ref}": ${masked}`
        : `  key "${ref}": MISSING (set ${envName}) — alerts routed to it are retried, then dead-lettered`,
    ),
  ];
}
