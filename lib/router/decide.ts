/** The router's state machine: what PagerDuty should hear now about one problem, given its state. */
import type { Severity } from "../alert/schema.ts";
import type { FlappingPolicy } from "../routes/policies.ts";
import { formatDuration } from "../platform/duration.ts";
import { holdUntil, isFlapping, recentChanges } from "./flapping.ts";
import {
  AGGREGATE_UPDATE_MS,
  SEVERITY_RANK,
  type PagerDutyAction,
  type ProblemState,
  type RouteMatch,
  type SuppressionMatch,
  type ToldRecord,
} from "./state.ts";

export type Decision =
  | { kind: "deliver"; action: PagerDutyAction; routingKeyRef: string; route: string; severity: Severity; why: string }
  | { kind: "suppress"; window: SuppressionMatch }
  /** A resolve held back while the problem flaps; the sweep looks again at `until`. */
  | { kind: "hold"; until: string; why: string }
  | { kind: "none"; why: string };

/** What decide needs to judge flapping: the router's clock and the policy (absent: never held). */
export interface HoldContext {
  now: Date;
  flapping?: FlappingPolicy;
}

/**
 * What PagerDuty should hear now, given the problem's state. Pure: the same state, window,
 * route and clock always give the same decision, which the property tests rely on.
 */
export function decide(state: ProblemState, window: SuppressionMatch | undefined, route: RouteMatch, hold?: HoldContext): Decision {
  const { told, openIn } = state;
  if (state.status === "resolved") {
    if (openIn) {
      const held = hold?.flapping && heldResolve(state, hold.now, hold.flapping);
      if (held) return held;
      // Resolve where you (may have) triggered: the recorded key, not today's routing.
      return { kind: "deliver", action: "resolve", ...openIn, severity: state.severity, why: "resolved" };
    }
    if (told?.action === "resolve" && state.reResolveAt && hold?.now && hold.now.getTime() >= Date.parse(state.reResolveAt)) {
      // Idempotent at PagerDuty; closes an incident a late-processed trigger may have reopened.
      return {
        kind: "deliver",
        action: "resolve",
        routingKeyRef: told.routingKeyRef,
        route: told.route,
        severity: state.severity,
        why: "resolve sent again: a trigger attempt got no answer and may have been processed after the resolve",
      };
    }
    return { kind: "none", why: told ? "already resolved in PagerDuty" : "PagerDuty never heard of this problem" };
  }
  if (told?.action === "trigger") {
    if (SEVERITY_RANK[state.severity] <= SEVERITY_RANK[told.severity])
      return aggregateUpdate(state, told, hold?.now) ?? { kind: "none", why: "already triggered in PagerDuty" };
    // A raise is a new notification, so a window holds it back like a first trigger.
    if (window) return { kind: "suppress", window };
    return {
      kind: "deliver",
      action: "trigger",
      routingKeyRef: told.routingKeyRef,
      route: told.route,
      severity: state.severity,
      why: `severity raised from ${told.severity} to ${state.severity}`,
    };
  }
  if (window && !openIn) return { kind: "suppress", window };
  // An unconfirmed trigger is sent again to the same key: PagerDuty folds it into the open alert.
  const target = openIn ?? route;
  return {
    kind: "deliver",
    action: "trigger",
    routingKeyRef: target.routingKeyRef,
    route: target.route,
    severity: state.severity,
    why: openIn ? "trigger not confirmed" : "firing",
  };
}

function heldResolve(state: ProblemState, now: Date, policy: FlappingPolicy): Decision | undefined {
  const resolvedAt = new Date(state.transitionAt);
  if (!isFlapping(state.changes, resolvedAt, policy)) return undefined;
  const until = holdUntil(resolvedAt, policy);
  if (now >= until) return undefined;
  const count = recentChanges(state.changes, resolvedAt, policy.withinMs);
  return {
    kind: "hold",
    until: until.toISOString(),
    why:
      `flapping (${count} changes in ${formatDuration(policy.withinMs)}): the resolve waits ` +
      `until it has stayed resolved for ${formatDuration(policy.stableMs)}`,
  };
}

/** Changed counts of an open group or storm incident reach PagerDuty as one update per AGGREGATE_UPDATE_MS. */
function aggregateUpdate(state: ProblemState, told: ToldRecord, now: Date | undefined): Decision | undefined {
  if (!state.kind || !now) return undefined;
  const members = state.memberCount ?? 0;
  const firing = state.firingCount ?? 0;
  if (members === (told.members ?? 0) && firing === (told.firing ?? firing)) return undefined;
  const due = Date.parse(told.at) + AGGREGATE_UPDATE_MS;
  const news =
    `${members} members, ${firing} firing (PagerDuty has ` +
    `${told.members ?? 0}${told.firing === undefined ? "" : `, ${told.firing} firing`})`;
  if (now.getTime() < due) return { kind: "none", why: `${news}: the update goes to PagerDuty at ${new Date(due).toISOString()}` };
  return { kind: "deliver", action: "trigger", routingKeyRef: told.routingKeyRef, route: told.route, severity: state.severity, why: news };
}
