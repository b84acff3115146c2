/**
 * The periodic sweep: CloudWatch does not re-send an alarm that stays in ALARM, so a problem
 * suppressed while firing must be looked at again when its window ends; likewise a flapping
 * problem's held resolve, and an open group or storm incident with members PagerDuty has not seen. The sweep re-runs the
 * router's reconcile for every watched problem; the router decides, the sweep only asks.
 */
import type { Router } from "./router.ts";
import type { StateStore } from "./stores.ts";

export interface SweepReport {
  checked: number;
  delivered: number;
  /** Of those delivered: changes owed to PagerDuty whose own queue message had not delivered them within the grace period. */
  recovered: number;
  stillSuppressed: number;
  /** Flapping problems whose resolve is still held. */
  stillHeld: number;
  failed: { dedupKey: string; reason: string }[];
  /** Problems not reached before the deadline; the next sweep takes them. */
  unfinished: boolean;
}

/** Problems reconciled at once: a window ending over thousands of problems still pages within a sweep interval. */
export const SWEEP_CONCURRENCY = 8;

/**
 * A change recorded but not told is the router's own business for this long (its message may be
 * in flight or waiting out a PagerDuty outage); after it, the sweep delivers it from the table, so
 * a lost message, a crash or a purged queue never leaves a problem unpaged. Two router timeouts.
 */
export const DEFAULT_OWED_GRACE_MS = 120_000;

export async function sweepWatched(
  store: Pick<StateStore, "watched">,
  router: Pick<Router, "reconcileKey">,
  deadline: number,
  now: () => number = Date.now,
  concurrency = SWEEP_CONCURRENCY,
  owedGraceMs = DEFAULT_OWED_GRACE_MS,
  onlyOwed = false,
): Promise<SweepReport> {
  const report: SweepReport = { checked: 0, delivered: 0, recovered: 0, stillSuppressed: 0, stillHeld: 0, failed: [], unfinished: false };
  // Workers share one iterator: an async generator hands each next() its own key, in order.
  const keys = store.watched({ owedBefore: new Date(now() - owedGraceMs), onlyOwed, now: new Date(now()) })[Symbol.asyncIterator]();
  async function worker(): Promise<void> {
    for (;;) {
      if (now() >= deadline) {
        report.unfinished = true;
        return;
      }
      const next = await keys.next();
      if (next.done) return;
      const dedupKey = next.value;
      report.checked += 1;
      try {
        const outcome = await router.reconcileKey(dedupKey, deadline);
        if ((outcome?.outcome === "delivered" || outcome?.outcome === "grouped") && outcome.recovered) report.recovered += 1;
        if (outcome?.outcome === "delivered") report.delivered += 1;
        else if (outcome?.outcome === "suppressed") report.stillSuppressed += 1;
        else if (outcome?.outcome === "held") report.stillHeld += 1;
        else if (outcome?.outcome === "retry" || outcome?.outcome === "rejected") report.failed.push({ dedupKey, reason: outcome.reason });
      } catch (error) {
        // One broken problem must not stop the sweep for the others.
        report.failed.push({ dedupKey, reason: (error as Error).message });
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return report;
}

/**
 * After a PagerDuty outage: everything still owed, of any age, delivered now by the instance that
 * just got through, instead of when each waiting message's backoff ends (up to RETRY_BACKOFF_MAX
 * later). Claims keep it from doubling a delivery in flight elsewhere; the messages that come back
 * later find nothing left to send.
 */
export function drainOwed(
  store: Pick<StateStore, "watched">,
  router: Pick<Router, "reconcileKey">,
  deadline: number,
  now: () => number = Date.now,
): Promise<SweepReport> {
  return sweepWatched(store, router, deadline, now, SWEEP_CONCURRENCY, 0, true);
}
