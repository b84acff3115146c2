/**
 * Log lines at the default level (issue 15: log bytes per alert). A line carries what an operator
 * searches by — level, message, time, the invocation's request id, its own fields — and not what
 * the log group already says (function name, ARN, memory size, service, sampling rate); and the
 * count lines the stack turns into metrics.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { COUNTED, DimensionCounts, METRIC, createTelemetry } from "../../../lib/platform/observability.ts";
import { lambdaContext } from "../../support/lambda-context.ts";

const saved = { level: process.env.POWERTOOLS_LOG_LEVEL, dev: process.env.POWERTOOLS_DEV };
afterEach(() => {
  process.env.POWERTOOLS_LOG_LEVEL = saved.level;
  if (saved.dev === undefined) delete process.env.POWERTOOLS_DEV;
  vi.restoreAllMocks();
});

function linesOf(log: (telemetry: ReturnType<typeof createTelemetry>) => void): Record<string, unknown>[] {
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
  delete process.env.POWERTOOLS_DEV;
  const written: string[] = [];
  const record = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  // Errors and warnings go to stderr, the rest to stdout: both end in the log group.
  vi.spyOn(process.stdout, "write").mockImplementation(record);
  vi.spyOn(process.stderr, "write").mockImplementation(record);
  const telemetry = createTelemetry("router");
  telemetry.logger.addContext({ ...lambdaContext("alert-relay-router"), awsRequestId: "c0ffee00-0000-4000-8000-000000000001" });
  log(telemetry);
  return written
    .join("")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("log lines", () => {
  it("keep level, message, time, request id and the line's own fields, and drop what the log group already says", () => {
    const [line] = linesOf(({ logger }) =>
      logger.info("alert routed", { outcome: "deduplicated", dedupKey: "prometheus:HighLatency:5aa4" }),
    );
    // cold_start is said only when true (Powertools decides it once per process).
    const { cold_start: coldStart, ...rest } = line!;
    expect(coldStart ?? true).toBe(true);
    expect(rest).toEqual({
      level: "INFO",
      message: "alert routed",
      timestamp: expect.any(String),
      requestId: "c0ffee00-0000-4000-8000-000000000001",
      component: "router",
      outcome: "deduplicated",
      dedupKey: "prometheus:HighLatency:5aa4",
    });
  });

  it("keep errors whole and follow the invocation's request id", () => {
    const lines = linesOf(({ logger }) => {
      logger.info("first");
      logger.addContext({ ...lambdaContext("alert-relay-router"), awsRequestId: "second" });
      logger.error("second", { error: new Error("boom") });
    });
    expect(lines[1]).not.toHaveProperty("cold_start");
    expect(lines[1]).toMatchObject({ level: "ERROR", requestId: "second", error: { name: "Error", message: "boom" } });
  });
});

describe("count lines", () => {
  const written = (metricsDisabled: string | undefined, count: (telemetry: ReturnType<typeof createTelemetry>) => void) => {
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", metricsDisabled);
    const chunks: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => chunks.push(String(chunk)) > 0);
    try {
      count(createTelemetry("router"));
    } finally {
      vi.unstubAllEnvs();
    }
    return chunks.join("");
  };

  it("are one short JSON line each, with the metric's one dimension (what the stack's metric filters read), summed per value", () => {
    const text = written("false", ({ metrics }) => {
      const counts = new DimensionCounts(metrics);
      counts.add(METRIC.routerOutcomes, "deduplicated");
      counts.add(METRIC.routerOutcomes, "deduplicated");
      counts.add(METRIC.pagerDutyEvents, "trigger");
      counts.publish();
      counts.publish();
    });
    expect(text).toBe('{"RouterOutcomes":2,"outcome":"deduplicated"}\n{"PagerDutyEvents":1,"action":"trigger"}\n');
    expect(Object.keys(COUNTED)).toEqual([METRIC.alertsAccepted, METRIC.routerOutcomes, METRIC.pagerDutyEvents, METRIC.deadLettered]);
  });

  it("are off with the metrics (POWERTOOLS_METRICS_DISABLED; the tests and the local stack)", () => {
    expect(written("true", ({ metrics }) => metrics.count(METRIC.alertsAccepted, "prometheus"))).toBe("");
  });
});
