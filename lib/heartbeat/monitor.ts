/**
 * Heartbeats in the pipeline. The router side: an alert that matches a declared heartbeat is a
 * beat, recorded on the heartbeat's tracker and never paged itself. The sweep side: every
 * declared heartbeat is checked on each run; a missing one becomes a firing "heartbeat missing"
 * alert, and once beats are back, its resolve. Both go through the router's own handleAlert, so
 * dedup, windows, routing, grouping and exactly-once delivery apply to them like to any alert.
 */
import type { NormalizedAlert } from "../alert/schema.ts";
import type { HeartbeatDeclaration } from "../routes/policies.ts";
import type { RouteOutcome, Router } from "../router/router.ts";
import type { StateStore } from "../router/stores.ts";
import { formatDuration } from "../platform/duration.ts";
import { METRIC, countWithDimension, type Telemetry } from "../platform/observability.ts";
import { backAlert, beatTime, heartbeatFor, heartbeatStatus, missingAlert, missingDedupKey } from "./heartbeat.ts";
import type { HeartbeatStore } from "./heartbeat.ts";

export interface HeartbeatDeps {
  declarations: readonly HeartbeatDeclaration[];
  store: HeartbeatStore;
  telemetry: Telemetry;
  now?: () => Date;
}

/**
 * The router with beats taken out before routing. A firing match is a beat; a resolved one is
 * not (Alertmanager resolves the Watchdog when Prometheus stops evaluating it) and is not paged
 * either. Without declarations the router is returned as it is.
 */
export function withHeartbeats<R extends Pick<Router, "handleAlert">>(router: R, deps: HeartbeatDeps): R {
  if (deps.declarations.length === 0) return router;
  const now = deps.now ?? (() => new Date());
  const { metrics } = deps.telemetry;
  return {
    ...router,
    async handleAlert(alert: NormalizedAlert, deadline: number): Promise<RouteOutcome> {
      const declaration = heartbeatFor(deps.declarations, alert);
      if (!declaration) return router.handleAlert(alert, deadline);
      const { name } = declaration;
      if (alert.status !== "firing")
        return {
          outcome: "heartbeat",
          name,
          why: "a resolved heartbeat alert is not a beat (nor paged); the sweep pages if no beat follows",
        };
      const at = beatTime(alert, now());
      const recorded = await deps.store.beat(name, { at, alertId: alert.id, source: alert.source }, now());
      if (!recorded)
        return {
          outcome: "heartbeat",
          name,
          why: `beat at ${at} is not newer than the last one recorded (a redelivery or a duplicate): ignored`,
        };
      countWithDimension(metrics, METRIC.heartbeatBeats, "heartbeat", name);
      return { outcome: "heartbeat", name, why: `beat recorded at ${at}` };
    },
  };
}

export interface HeartbeatSweepReport {
  checked: number;
  /** Names of the heartbeats missing at this run (paged, or already paged). */
  missing: string[];
  /** Names whose beats came back at this run (resolve sent or owed). */
  back: string[];
  failed: { name: string; reason: string }[];
  /** Heartbeats not reached before the deadline; the next run checks them. */
  unfinished: boolean;
}

export interface HeartbeatSweepDeps extends HeartbeatDeps {
  router: Pick<Router, "handleAlert">;
  /** Where the "heartbeat missing" problems live: the router's state store. */
  problems: Pick<StateStore, "get">;
}

const failure = (outcome: RouteOutcome) => (outcome.outcome === "retry" || outcome.outcome === "rejected" ? outcome.reason : undefined);

/** Checks every declared heartbeat once; the sweep calls it on each run. */
export function createHeartbeatSweep(deps: HeartbeatSweepDeps) {
  const now = deps.now ?? (() => new Date());
  const { logger, metrics } = deps.telemetry;

  async function check(declaration: HeartbeatDeclaration, deadline: number, report: HeartbeatSweepReport): Promise<void> {
    const { name, intervalMs } = declaration;
    const at = now();
    const record = await deps.store.watch(name, intervalMs, at);
    const status = heartbeatStatus(record, intervalMs, at);
    const problem = await deps.problems.get(missingDedupKey(name));
    const context = {
      heartbeat: name,
      expectedEvery: formatDuration(intervalMs),
      lastBeatAt: record.lastBeatAt,
      beats: record.beats ?? 0,
      dedupKey: missingDedupKey(name),
    };

    if (status.missing) {
      report.missing.push(name);
      countWithDimension(metrics, METRIC.heartbeatsMissing, "heartbeat", name);
      const alert = missingAlert(declaration, record, status, at);
      // Sent on every run while missing: a duplicate for the router, and the retry if a delivery failed.
      const outcome = await deps.router.handleAlert(alert, deadline);
      const firstTime = !(problem?.status === "firing" && problem.transitionAt === alert.occurredAt);
      if (firstTime)
        logger.warn("heartbeat missing", { ...context, missingSince: status.since, summary: alert.summary, outcome: outcome.outcome });
      const reason = failure(outcome);
      if (reason) report.failed.push({ name, reason });
      return;
    }
    // Back: the "missing" problem is still firing, or its resolve is still owed to PagerDuty.
    if (problem && (problem.status === "firing" || problem.openIn)) {
      report.back.push(name);
      const alert = backAlert(declaration, record, problem.eventAt, at);
      const outcome = await deps.router.handleAlert(alert, deadline);
      logger.info("heartbeat back", { ...context, summary: alert.summary, outcome: outcome.outcome });
      const reason = failure(outcome);
      if (reason) report.failed.push({ name, reason });
    }
  }

  return {
    async sweep(deadline: number): Promise<HeartbeatSweepReport> {
      const report: HeartbeatSweepReport = { checked: 0, missing: [], back: [], failed: [], unfinished: false };
      for (const declaration of deps.declarations) {
        if (Date.now() >= deadline) {
          report.unfinished = true;
          break;
        }
        report.checked += 1;
        try {
          await check(declaration, deadline, report);
        } catch (error) {
          // One heartbeat's failure must not stop the others; the next run tries again.
          report.failed.push({ name: declaration.name, reason: (error as Error).message });
        }
      }
      return report;
    },
  };
}

export type HeartbeatSweep = ReturnType<typeof createHeartbeatSweep>;
