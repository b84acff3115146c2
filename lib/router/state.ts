/**
 * The router's record of one problem (one dedup key): what the sources said, and separately what
 * PagerDuty has been told. Deciding on the difference between the two is what makes a failed
 * delivery retried, a redelivered message harmless and a resolve go where its trigger went.
 */
import type { AlertStatus, NormalizedAlert, Severity } from "../alert/schema.ts";

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
}

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

export interface ProblemState {
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
  /** The newest alert of the current status, kept so a sweep can page for it later. */
  lastAlert: NormalizedAlert;
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
  /** Sparse index: set while the sweep must look at this problem again (e.g. suppressed while firing). */
  watch?: "suppressed";
  watchAt?: string;
  /** Epoch seconds; resolved problems are forgotten after the retention period. */
  expiresAt?: number;
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

export type Decision =
  | { kind: "deliver"; action: PagerDutyAction; routingKeyRef: string; route: string; severity: Severity; why: string }
  | { kind: "suppress"; window: SuppressionMatch }
  | { kind: "none"; why: string };

/**
 * What PagerDuty should hear now, given the problem's state. Pure: the same state, window and
 * route always give the same decision, which the property tests rely on.
 */
export function decide(state: ProblemState, window: SuppressionMatch | undefined, route: RouteMatch): Decision {
  const { told, openIn } = state;
  if (state.status === "resolved") {
    // Resolve where you (may have) triggered: the recorded key, not today's routing.
    if (openIn) return { kind: "deliver", action: "resolve", ...openIn, severity: state.severity, why: "resolved" };
    return { kind: "none", why: told ? "already resolved in PagerDuty" : "PagerDuty never heard of this problem" };
  }
  if (told?.action === "trigger") {
    if (SEVERITY_RANK[state.severity] <= SEVERITY_RANK[told.severity]) return { kind: "none", why: "already triggered in PagerDuty" };
    // A raise is a new notification, so a window holds it back like a first trigger.
    if (window) return { kind: "suppress", window };
    return { kind: "deliver", action: "trigger", routingKeyRef: told.routingKeyRef, route: told.route, severity: state.severity, why: `severity raised from ${told.severity} to ${state.severity}` };
  }
  if (window && !openIn) return { kind: "suppress", window };
  // An unconfirmed trigger is sent again to the same key: PagerDuty folds it into the open alert.
  const target = openIn ?? route;
  return { kind: "deliver", action: "trigger", routingKeyRef: target.routingKeyRef, route: target.route, severity: state.severity, why: openIn ? "trigger not confirmed" : "firing" };
}
