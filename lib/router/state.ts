/**
 * The router's record of one problem (one dedup key): what the sources said, and separately what
 * PagerDuty has been told. Deciding on the difference between the two is what makes a failed
 * delivery retried, a redelivered message harmless and a resolve go where its trigger went.
 */
import type { AlertStatus, NormalizedAlert, Severity } from "../alert/schema.ts";
import type { AggregateFields, AggregateRef } from "./aggregates.ts";

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, error: 2, critical: 3 };

export type PagerDutyAction = "trigger" | "resolve";

/** What PagerDuty last accepted for this problem. */
export interface ToldRecord {
  action: PagerDutyAction;
  routingKeyRef: string;
  route: string;
  severity: Severity;
  alertId: string;
  at: string;
  /** For a group or storm incident: the member and firing counts PagerDuty's alert gave. */
  members?: number;
  firing?: number;
}

/** A group or storm incident tells PagerDuty about new members at most this often (PagerDuty takes ~120 events a minute per key). */
export const AGGREGATE_UPDATE_MS = 60_000;

/** A delivery one router instance has claimed; others leave the key alone until `until`. */
export interface DeliveryClaim {
  claimId: string;
  action: PagerDutyAction;
  severity: Severity;
  routingKeyRef: string;
  route: string;
  until: string;
}

/** Where a trigger may have reached PagerDuty (set when a trigger is claimed, cleared when a resolve is confirmed). */
export interface OpenIn {
  routingKeyRef: string;
  route: string;
}

export interface ProblemState extends AggregateFields {
  dedupKey: string;
  source: string;
  /** The source's latest state, as far as ordering allows. */
  status: AlertStatus;
  severity: Severity;
  /** occurredAt of the event that set `status`. */
  transitionAt: string;
  /** The newest occurredAt applied: an event older than this never changes the status (order safety). */
  eventAt: string;
  firstSeenAt: string;
  lastSeenAt: string;
  lastAlertId: string;
  /**
   * The alert PagerDuty hears for this problem: the one being routed, or, read from the table, the
   * firing alert kept in the problem's alert item (lib/state-table/problem-store.ts) so a sweep can page for it later.
   */
  lastAlert: NormalizedAlert;
  /** occurredAt of the firing alert the problem's alert item was written for (absent: none written, or an item of the old layout). */
  alertAt?: string;
  seen: number;
  deduplicated: number;
  suppressed: number;
  /** Events ignored because they were older than the recorded transition. */
  stale: number;
  told?: ToldRecord;
  /**
   * Set from the moment a trigger is claimed, not confirmed: a router that dies after PagerDuty
   * accepted the trigger but before recording it must still leave a resolve to send.
   */
  openIn?: OpenIn;
  delivery?: DeliveryClaim;
  suppressedBy?: string;
  suppressedReason?: string;
  lastDeliveryError?: string;
  /**
   * Sparse index: set while the sweep must look at this problem again: a change PagerDuty has not
   * been told yet ("owed", from its transition until delivered or settled), suppressed while
   * firing, a resolve held while flapping, an open group or storm incident.
   */
  watch?: "owed" | "suppressed" | "held" | "aggregate" | "reresolve";
  watchAt?: string;
  /** The times of its recent state changes (newest last, at most MAX_RECORDED_CHANGES): what flapping is judged on. */
  changes?: string[];
  /** How many times a resolve was held back because the problem was flapping. */
  held?: number;
  /** Marked flapping: the resolve that first had to be held; cleared when a resolve finally goes out. */
  flappingSince?: string;
  /** The transition judged to page on its own when its group and storm would not take it (never judged twice). */
  gatedAt?: string;
  /** Set while this problem pages through a group or storm incident instead of its own. */
  aggregate?: AggregateRef;
  /** A trigger attempt got no answer (timeout, reset): PagerDuty may process it late, even after a resolve. */
  uncertainTriggerAt?: string;
  /** After a resolve that followed an uncertain trigger, the sweep sends the resolve once more at this time (watch "reresolve"). */
  reResolveAt?: string;
  /** Firing episodes that were over before PagerDuty could be told: not paged (see docs/faults.md). */
  unpaged?: number;
  /** How many times the sweep delivered a change whose own queue message did not (lost, or failing past the grace period). */
  recovered?: number;
  recoveredAt?: string;
  /** Epoch seconds; resolved problems are forgotten after the retention period. */
  expiresAt?: number;
}

/**
 * A state read back from a write holds no alert (lib/state-table/problem-store.ts): it takes the alert of the state the caller had,
 * as long as no newer firing was recorded meanwhile (then undefined: read it again).
 */
export function carryAlert(next: ProblemState, from: Pick<ProblemState, "lastAlert" | "alertAt">): ProblemState | undefined {
  if (next.lastAlert !== undefined) return next;
  return next.alertAt === from.alertAt ? { ...next, lastAlert: from.lastAlert } : undefined;
}

export interface SuppressionMatch {
  id: string;
  reason?: string;
  endsAt?: string;
}

export interface RouteMatch {
  route: string;
  routingKeyRef: string;
}
