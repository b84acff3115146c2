/** The sweep's scheduled Lambda handler: reconciles watched problems within the invocation's time. */
import middy from "@middy/core";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import type { Context } from "aws-lambda";
import type { RouterRuntime } from "./runtime.ts";
import { sweepWatched, type SweepReport } from "./sweep.ts";

export function createSweepHandler(runtime: Pick<RouterRuntime, "store" | "router" | "telemetry">, safetyMarginMs = 5_000) {
  const { logger, metrics } = runtime.telemetry;
  const core = async (_event: unknown, context: Context): Promise<SweepReport> => {
    const report = await sweepWatched(runtime.store, runtime.router, Date.now() + context.getRemainingTimeInMillis() - safetyMarginMs);
    const level = report.failed.length > 0 ? "warn" : "info";
    logger[level]("sweep done", { ...report });
    return report;
  };
  return middy(core).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
