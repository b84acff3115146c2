/**
 * Log bytes per alert at the default level (issue 15): what the adapter prints per webhook request
 * and the router per duplicate — log lines, count lines and EMF records, all CloudWatch Logs bytes
 * — with the API access log line, within 300 bytes per alert on the steady mix (90 % repeats, one
 * alert per request, one message per router invocation); and the metrics the alarms and the dashboard read
 * (infra/constructs/operations.ts) are still there, summed.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { SQSBatchResponse } from "aws-lambda";
import { createRouterHandler } from "../../../lib/handlers/router.ts";
import { COUNTED, METRIC, METRICS_NAMESPACE, SERVICE_NAME, createTelemetry, isCounted } from "../../../lib/platform/observability.ts";
import { PIPELINE } from "../../../lib/handlers/pipeline.ts";
import { startRouterHarness, type RouterHarness } from "../../support/router-harness.ts";
import { alertAt } from "../../support/alerts.ts";
import { typicalAccessLogLine } from "../../support/access-log.ts";
import { loadFixtures } from "../../support/fixtures.ts";
import { httpEvent } from "../../support/http-event.ts";
import { createAdapterHandler } from "../../../lib/handlers/adapter.ts";
import { findAdapter } from "../../../lib/adapters/registry.ts";
import { sqsEvent, sqsRecord } from "../../support/sqs-event.ts";
import { lambdaContext } from "../../support/lambda-context.ts";

/** The steady path's budget per alert: access log line, adapter and router together, one alert per webhook request. */
const TARGET_BYTES_PER_ALERT = 300;

let h: RouterHarness;
let n = 0;
beforeAll(async () => void (h = await startRouterHarness()));
afterAll(async () => h.close());
// As deployed: INFO, metrics on (vitest.config.ts turns both off for the other tests). Stubbed for
// the whole test: Powertools reads the switch again for every single metric.
beforeEach(() => {
  h.fake.reset();
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "INFO");
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
  vi.stubEnv("POWERTOOLS_DEV", undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** Everything the process prints while `fn` runs (stdout and stderr both end in the log group). */
async function printed(fn: () => Promise<unknown>): Promise<string> {
  const written: string[] = [];
  const record = (chunk: string | Uint8Array) => {
    written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
    return true;
  };
  const out = vi.spyOn(process.stdout, "write").mockImplementation(record as typeof process.stdout.write);
  const err = vi.spyOn(process.stderr, "write").mockImplementation(record as typeof process.stderr.write);
  try {
    await fn();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return written.join("");
}

const lines = (text: string) =>
  text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

interface EmfRecord {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [field: string]: unknown;
}

/**
 * Each metric a set of lines publishes, as "Name dim=value", summed: EMF records (namespace and
 * `service` checked) and count lines, read as the stack's metric filters read them (one dimension,
 * named in COUNTED).
 */
function metricSums(records: Record<string, unknown>[]): Record<string, number> {
  const sums: Record<string, number> = {};
  const add = (key: string, value: unknown) => void (sums[key] = (sums[key] ?? 0) + Number(value));
  for (const record of records) {
    const counted = Object.keys(record).find(isCounted);
    if (counted && !("_aws" in record)) {
      const dimension = COUNTED[counted];
      expect(Object.keys(record)).toEqual([counted, dimension]);
      add(`${counted} ${dimension}=${String(record[dimension])}`, record[counted]);
      continue;
    }
    if (!("_aws" in record)) continue;
    for (const directive of (record as EmfRecord)._aws.CloudWatchMetrics) {
      expect(directive.Namespace).toBe(METRICS_NAMESPACE);
      for (const dimensions of directive.Dimensions) {
        expect(dimensions[0]).toBe("service");
        expect(record.service).toBe(SERVICE_NAME);
        for (const { Name } of directive.Metrics)
          add([Name, ...dimensions.slice(1).map((d) => `${d}=${String(record[d])}`)].join(" "), record[Name]);
      }
    }
  }
  return sums;
}

function routerHandler() {
  return createRouterHandler({
    ...createTelemetry("router"),
    router: h.router(),
    deadLetters: { send: async () => {} },
    maxReceiveCount: 3,
    safetyMarginMs: 500,
  });
}

const handle = (handler: ReturnType<typeof routerHandler>, bodies: readonly object[], receiveCount = 1) =>
  handler(
    sqsEvent(bodies.map((body) => sqsRecord(JSON.stringify(body), { receiveCount }))),
    lambdaContext("alert-relay-router", 10_000),
  ) as Promise<SQSBatchResponse>;

/** Bytes the adapter prints per webhook request carrying one Alertmanager alert, and what they count. */
async function adapterBytesPerRequest(requests: number): Promise<{ bytes: number; sums: Record<string, number> }> {
  const adapter = findAdapter("prometheus")!;
  const fixture = loadFixtures("prometheus").find((f) => f.file.includes("high-latency.firing"))!;
  const handler = createAdapterHandler(adapter, {
    ...createTelemetry("adapter", { source: adapter.name }),
    env: {},
    webhookToken: async () => "token",
    publisher: { publish: async () => {} },
  });
  const body = JSON.stringify(fixture.payload);
  const text = await printed(async () => {
    for (let i = 0; i < requests; i += 1) {
      const response = await handler(httpEvent(body, { headers: { authorization: "Bearer token" } }), lambdaContext("alert-relay-adapter"));
      expect(response).toMatchObject({ statusCode: 202 });
    }
  });
  return { bytes: Buffer.byteLength(text) / requests, sums: metricSums(lines(text)) };
}

/**
 * Bytes the router prints per message over one problem's life on the steady mix (issue 15: 90 %
 * repeats): its first firing, 18 repeats and its resolve, `batchSize` messages per invocation.
 */
async function routerBytesPerAlert(batchSize: number): Promise<number> {
  const key = `life-${(n += 1)}`;
  h.fake.reset();
  const handler = routerHandler();
  const firstText = await printed(() => handle(handler, [alertAt(key, "firing", 0)]));
  const first = lines(firstText);
  // What changed PagerDuty is still said at INFO, with what names the alert.
  expect(first).toContainEqual(
    expect.objectContaining({ level: "INFO", message: "alert routed", outcome: "delivered", dedupKey: expect.stringContaining(key) }),
  );
  const repeats = 18;
  const repeated = await printed(async () => {
    for (let sent = 0; sent < repeats; sent += batchSize) {
      const batch = Array.from({ length: Math.min(batchSize, repeats - sent) }, (_, i) => alertAt(key, "firing", 1 + sent + i));
      expect((await handle(handler, batch)).batchItemFailures).toEqual([]);
    }
  });
  const resolvedText = await printed(() => handle(handler, [alertAt(key, "resolved", 1 + repeats)]));
  const resolved = lines(resolvedText);
  // Every message is still counted, under the dimension the dashboard searches by.
  expect(metricSums(first)).toEqual({ [`${METRIC.routerOutcomes} outcome=delivered`]: 1, [`${METRIC.pagerDutyEvents} action=trigger`]: 1 });
  expect(metricSums(lines(repeated))).toEqual({ [`${METRIC.routerOutcomes} outcome=deduplicated`]: repeats });
  expect(metricSums(resolved)).toEqual({
    [`${METRIC.routerOutcomes} outcome=delivered`]: 1,
    [`${METRIC.pagerDutyEvents} action=resolve`]: 1,
  });
  expect(h.fake.events.map((event) => event.action)).toEqual(["trigger", "resolve"]);
  return Buffer.byteLength(firstText + repeated + resolvedText) / (repeats + 2);
}

describe("log bytes per alert at the default level", () => {
  it("the steady mix (90 % repeats) costs at most 300 bytes per alert: access log, adapter and router, metrics included", async () => {
    const accessLog = Buffer.byteLength(typicalAccessLogLine()) + 1;
    const adapter = await adapterBytesPerRequest(10);
    // Every alert is still counted, under the dimension the dashboard charts by.
    expect(adapter.sums).toEqual({ [`${METRIC.alertsAccepted} source=prometheus`]: 10 });
    const router = await routerBytesPerAlert(1);
    const parts = `access log ${accessLog}, adapter ${adapter.bytes}, router ${router} bytes`;
    expect(accessLog + adapter.bytes + router, parts).toBeLessThanOrEqual(TARGET_BYTES_PER_ALERT);
  });

  it("full router batches cost less per alert than one message per invocation", async () => {
    expect(await routerBytesPerAlert(PIPELINE.routerBatchSize)).toBeLessThan(await routerBytesPerAlert(1));
  });

  it(
    "still emits what the delivery-failures alarm sums: RouterOutcomes retry " + "and DeadLettered exhausted, with a WARN-or-worse line",
    async () => {
      const key = `down-${(n += 1)}`;
      const handler = routerHandler();
      h.fake.down();
      const waiting = lines(await printed(() => handle(handler, [alertAt(key, "firing", 0), alertAt(`${key}-b`, "firing", 0)])));
      expect(metricSums(waiting)).toEqual({ [`${METRIC.routerOutcomes} outcome=retry`]: 2 });
      expect(waiting).toContainEqual(expect.objectContaining({ level: "INFO", message: "alert routed", outcome: "retry" }));

      const last = lines(await printed(() => handle(handler, [alertAt(key, "firing", 0)], 3)));
      expect(metricSums(last)).toEqual({ [`${METRIC.routerOutcomes} outcome=retry`]: 1, [`${METRIC.deadLettered} reason=exhausted`]: 1 });
      expect(last).toContainEqual(expect.objectContaining({ level: "ERROR", message: "message dead-lettered", kind: "exhausted" }));
    },
  );
});
