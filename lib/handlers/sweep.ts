/** The sweep's scheduled Lambda handler: checks declared heartbeats and reconciles watched problems within the invocation's time. */
import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import type { Context } from "aws-lambda";
import type { RouterRuntime } from "./router-runtime.ts";
import { SWEEP_CONCURRENCY, sweepWatched, type SweepReport } from "../router/sweep.ts";
import { METRIC, MetricUnit } from "../platform/observability.ts";
import type { HeartbeatSweepReport } from "../heartbeat/monitor.ts";

/** One sweep run: the watched problems, and the declared heartbeats checked (absent when none are declared). */
export interface SweepRunReport extends SweepReport {
  heartbeats?: HeartbeatSweepReport;
}

export function createSweepHandler(
  runtime: Pick<RouterRuntime, "store" | "router" | "telemetry"> & Partial<Pick<RouterRuntime, "heartbeats" | "owedGraceMs">>,
  safetyMarginMs = 5_000,
) {
  const { logger, metrics } = runtime.telemetry;
  const core = async (_event: unknown, context: Context): Promise<SweepRunReport> => {
    const deadline = Date.now() + context.getRemainingTimeInMillis() - safetyMarginMs;
    // Heartbeats first: a few checks, and a long list of watched problems must not starve the dead man's switch.
    const heartbeats = runtime.heartbeats && (await runtime.heartbeats.sweep(deadline));
    const swept = await sweepWatched(runtime.store, runtime.router, deadline, Date.now, SWEEP_CONCURRENCY, runtime.owedGraceMs);
    const report: SweepRunReport = { ...swept, ...(heartbeats?.checked ? { heartbeats } : {}) };
    if (report.recovered > 0) metrics.addMetric(METRIC.owedRecovered, MetricUnit.Count, report.recovered);
    const level =
      report.failed.length > 0 || (heartbeats?.failed.length ?? 0) > 0 || (heartbeats?.missing.length ?? 0) > 0 ? "warn" : "info";
    logger[level]("sweep done", { ...report });
    return report;
  };
  return middy(core).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
