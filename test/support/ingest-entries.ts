/**
 * Every ingest entry as deployed (functions/adapter.ts per adapter, functions/pagerduty-events.ts),
 * called directly as Lambda calls them: the real handlers and Powertools telemetry, the token from
 * WEBHOOK_TOKEN, and a queue stand-in that holds what was published to the contract (parsed as the
 * router parses it). Everything the handlers write to stdout/stderr is captured for the secret checks.
 */
import { vi } from "vitest";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { adapters } from "../../lib/adapters/registry.ts";
import { parseAlert } from "../../lib/alert/schema.ts";
import { createAdapterHandler } from "../../lib/handlers/adapter.ts";
import { createPagerDutyEventsHandler } from "../../lib/handlers/pagerduty-events.ts";
import { EVENTS_V2_SOURCE } from "../../lib/ingest/pagerduty-events/events-v2.ts";
import { parseQueueMessage } from "../../lib/messages/queue-message.ts";
import { webhookTokenFromEnv } from "../../lib/ingest/webhook-token.ts";
import { createTelemetry, type Telemetry } from "../../lib/platform/observability.ts";
import { lambdaContext } from "./lambda-context.ts";

/** The five HTTP entries of the stack, by path. */
export const HTTP_ENTRIES = [
  "/webhooks/prometheus",
  "/webhooks/datadog",
  "/webhooks/cloudwatch",
  "/v2/enqueue",
  "/v2/change/enqueue",
] as const;
export type HttpEntry = (typeof HTTP_ENTRIES)[number];

/** Captures what is written to stdout and stderr (where Powertools' logger writes) until restored. */
export function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const keep = (chunk: unknown) => void chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown) => (keep(chunk), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: unknown) => (keep(chunk), true));
  return {
    text: () => chunks.join(""),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

/** `loud`: write every log line (tests run with POWERTOOLS_LOG_LEVEL=SILENT), for the tests that capture and look into them. */
export function directEntries(options: { token?: string; loud?: boolean } = {}) {
  const loud = (telemetry: Telemetry): Telemetry => {
    if (options.loud) telemetry.logger.setLogLevel("DEBUG");
    return telemetry;
  };
  const env: Record<string, string> = options.token ? { WEBHOOK_TOKEN: options.token } : {};
  /** Whatever reached the queue, as the router would read it back (JSON round trip, then the contract). */
  const queued: unknown[] = [];
  const publisher = {
    async publish(alerts: readonly unknown[]) {
      for (const alert of alerts) queued.push(parseAlert(JSON.parse(JSON.stringify(alert))));
    },
  };
  const now = () => new Date("2026-11-26T18:00:00Z");
  const byAdapter = new Map(
    adapters.map((adapter) => [
      adapter.name,
      createAdapterHandler(adapter, {
        ...loud(createTelemetry("adapter", { source: adapter.name })),
        env,
        now,
        webhookToken: webhookTokenFromEnv(env),
        publisher,
      }),
    ]),
  );
  const events = createPagerDutyEventsHandler({
    ...loud(createTelemetry("ingest", { source: EVENTS_V2_SOURCE })),
    now,
    webhookToken: webhookTokenFromEnv(env),
    publisher,
    messagePublisher: {
      async publish(message) {
        queued.push(parseQueueMessage(JSON.parse(JSON.stringify(message))));
      },
    },
  });

  /** An HTTP event to the entry at `path`, as API Gateway hands it to the function. */
  async function http(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const webhook = /^\/webhooks\/([^/]+)$/.exec(event.rawPath);
    const handler = webhook ? byAdapter.get(webhook[1]!) : events;
    if (!handler) throw new Error(`no entry at ${event.rawPath}`);
    return (await handler(event as never, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  }

  /** A direct invocation (SNS, EventBridge, an alarm action) of an adapter's function. */
  async function invoke(adapterName: string, event: Record<string, unknown>): Promise<unknown> {
    return byAdapter.get(adapterName)!(event as never, lambdaContext());
  }

  return { http, invoke, queued, adapterNames: [...byAdapter.keys()] };
}
