/**
 * Routes one alert: record it, decide from the recorded state what PagerDuty should hear, claim
 * that delivery, deliver, confirm. Each step is a conditional write, so a crash between steps, a
 * redelivered message or a concurrent instance leaves the state in a place the next attempt
 * (or the sweep) completes from, without a second page.
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_CLOCK_SKEW_MS, boundSourceClock } from "../alert/clock.ts";
import type { NormalizedAlert } from "../alert/schema.ts";
import type { Policies } from "../routing/policies.ts";
import { activeMembership, groupTargetFor, isAggregate, isSynced, stormTarget, type AggregateKind, type AggregateRef, type AggregateTarget } from "./aggregates.ts";
import type { AggregateStore } from "./aggregate-store.ts";
import { decide, type Decision, type PagerDutyAction, type ProblemState, type RouteMatch, type SuppressionMatch } from "./state.ts";
import type { RecordOutcome, StateStore } from "./state-store.ts";

/** `uncertain`: an attempt got no answer, so PagerDuty may have the event, or may process it late. */
export type DeliveryOutcome =
  | { outcome: "accepted"; uncertain?: boolean }
  | { outcome: "rejected"; message: string }
  | { outcome: "retry_later"; reason: string; retryAfterMs?: number; uncertain?: boolean; outdated?: boolean };

/** Sends one PagerDuty event for the alert (builds it, resolves the key, retries within the deadline). */
export type Deliver = (
  alert: NormalizedAlert,
  delivery: { action: PagerDutyAction; routingKeyRef: string; route: string; severity: NormalizedAlert["severity"] },
  deadline: number,
  /** Asked before a retry: false when newer state makes this event outdated (then it is not sent again). */
  stillWanted?: () => Promise<boolean>,
) => Promise<DeliveryOutcome>;

export interface RouterDeps {
  store: StateStore;
  findWindow: (alert: NormalizedAlert, now: Date) => Promise<SuppressionMatch | undefined>;
  route: (alert: NormalizedAlert) => RouteMatch;
  deliver: Deliver;
  /** Group and storm incidents need both; without them every problem pages on its own. */
  aggregates?: AggregateStore;
  /** Grouping rules, flapping and storm thresholds; absent parts are off. */
  policies?: Partial<Pick<Policies, "groups" | "flapping" | "storm">>;
  now?: () => Date;
  newClaimId?: () => string;
  /** How far ahead of its receive time a source timestamp is believed (default 5 min); later ones are clamped. */
  clockSkewMs?: number;
  /** How long after a resolve that followed an uncertain trigger the resolve is sent once more (default 60 s). */
  reResolveAfterMs?: number;
}

/** Not done yet: the queue message comes back, after `retryAfterMs` when the cause says how long (Retry-After, pacing). */
export interface RetryOutcome {
  outcome: "retry";
  reason: string;
  retryAfterMs?: number;
}

export type RouteOutcome =
  /**
   * `recovered`: delivered by the sweep from the recorded state, not by the change's own queue message.
   * `unpaged`: the resolve of a firing episode that was over before PagerDuty could be told (docs/faults.md).
   */
  | { outcome: "delivered"; actions: PagerDutyAction[]; recorded: RecordOutcome; recovered?: boolean; unpaged?: boolean }
  | { outcome: "deduplicated"; why: string; recorded: RecordOutcome }
  | { outcome: "stale"; why: string }
  | { outcome: "suppressed"; windowId: string }
  /** Pages through a group or storm incident; `actions` are what that incident's PagerDuty alert got. */
  | { outcome: "grouped"; into: string; kind: AggregateKind; actions: PagerDutyAction[]; recovered?: boolean }
  /** A flapping problem's resolve, held until it has been stable; the sweep sends it then. */
  | { outcome: "held"; until: string; why: string }
  /** A beat of a declared heartbeat (lib/heartbeat): recorded as a beat, never paged itself. */
  | { outcome: "heartbeat"; name: string; why: string }
  | { outcome: "in_flight"; why: string }
  /** Not delivered now; the message must come back, after `retryAfterMs` when known (a per-message delay, never the DLQ for waiting alone). */
  | RetryOutcome
  /** PagerDuty refused the event (400): retrying cannot help; the message goes to the DLQ with this reason. */
  | { outcome: "rejected"; reason: string };

/** A trigger abandoned without an answer is processed late, if at all, within about this: then the resolve goes again. */
export const DEFAULT_RERESOLVE_AFTER_MS = 60_000;

/** How far past the caller's deadline a claim stays reserved, so a slow but live instance keeps it. */
const CLAIM_MARGIN_MS = 5_000;
/** A claim that is confirmed may reveal newer state (a resolve that arrived meanwhile): handle a few rounds. */
const MAX_ROUNDS = 4;

export function createRouter(deps: RouterDeps) {
  const now = deps.now ?? (() => new Date());
  const newClaimId = deps.newClaimId ?? randomUUID;

  const policies = deps.policies ?? {};

  async function decisionFor(state: ProblemState): Promise<Decision> {
    const alert = state.lastAlert;
    // Members were checked against windows before they joined; the aggregate itself is not.
    const window = state.status === "firing" && !isAggregate(state) ? await deps.findWindow(alert, now()) : undefined;
    return decide(state, window, deps.route(alert), { now: now(), flapping: isAggregate(state) ? undefined : policies.flapping });
  }

  /** A trigger that would open a new PagerDuty incident for this problem (not a re-send, raise or aggregate). */
  const opensIncident = (state: ProblemState) => !isAggregate(state) && !state.openIn && state.told?.action !== "trigger";

  /**
   * A new incident joins its group if a rule matches and the group's window is open; else, when
   * its routing key is storming, the storm incident. Undefined: it pages on its own.
   */
  async function joinAggregate(state: ProblemState, routingKeyRef: string, aggregates: AggregateStore) {
    const tryJoin = async (target: AggregateTarget) => {
      const joined = await aggregates.join(target, state, now());
      if (!joined) return undefined;
      const ref: AggregateRef = { key: target.key, kind: target.kind, rule: target.rule };
      // Recorded before anything is delivered: a redelivered message must go on through this
      // aggregate (where it is listed as firing), not page on its own once the storm has passed.
      await aggregates.setMembership(state, ref);
      return { joined, ref };
    };
    const group = policies.groups?.length ? groupTargetFor(policies.groups, state.lastAlert) : undefined;
    const grouped = group && (await tryJoin(group));
    if (grouped) return grouped;
    if (!policies.storm) return undefined;
    // Only incidents that would really open count. A key storms from the first new incident over
    // the rate in a clock minute, and keeps storming until a whole minute stayed within it.
    const counts = await aggregates.countNewIncident(routingKeyRef, now());
    const limit = policies.storm.newIncidentsPerMinute;
    return counts.thisMinute > limit || counts.lastMinute > limit ? tryJoin(stormTarget(routingKeyRef)) : undefined;
  }

  /**
   * A member's change reaches PagerDuty through its aggregate: join (again, idempotently) or
   * leave, write the derived view, reconcile the aggregate, and only then mark the member synced,
   * so a crash anywhere in between is completed by the redelivered message.
   */
  async function throughAggregate(member: ProblemState, ref: AggregateRef, joined: ProblemState | undefined, deadline: number): Promise<RouteOutcome> {
    const aggregates = deps.aggregates!;
    const changed =
      joined ??
      (member.status === "firing" ? await aggregates.join({ key: ref.key, kind: ref.kind, rule: ref.rule, windowMs: undefined }, member, now()) : await aggregates.leave(ref, member));
    const actions: PagerDutyAction[] = [];
    if (changed) {
      const view = await aggregates.writeView(changed, now());
      if (view) {
        const result = await reconcile(view, "repeat", deadline);
        if (result.outcome === "retry" || result.outcome === "rejected") return result;
        if (result.outcome === "delivered") actions.push(...result.actions);
      }
    }
    await aggregates.setMembership(member, { ...ref, synced: { status: member.status, at: member.transitionAt } });
    await deps.store.settle(member);
    return { outcome: "grouped", into: ref.key, kind: ref.kind, actions };
  }

  /** Brings PagerDuty in line with the recorded state of one problem. */
  async function reconcile(initial: ProblemState, recorded: RecordOutcome, deadline: number): Promise<RouteOutcome> {
    let state = initial;
    const membership = !isAggregate(state) && activeMembership(state);
    if (membership) {
      if (isSynced(state, membership)) {
        await deps.store.settle(state);
        return { outcome: "deduplicated", why: `pages through ${membership.key}`, recorded };
      }
      return throughAggregate(state, membership, undefined, deadline);
    }
    const delivered: PagerDutyAction[] = [];
    let unpagedEpisode = false;
    const deliveredOutcome = (): RouteOutcome => ({ outcome: "delivered", actions: delivered, recorded, ...(unpagedEpisode ? { unpaged: true } : {}) });
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const decision = await decisionFor(state);
      if (decision.kind === "hold") {
        if (state.watch !== "held") await deps.store.markHeld(state, decision.until);
        return delivered.length > 0 ? deliveredOutcome() : { outcome: "held", until: decision.until, why: decision.why };
      }
      if (decision.kind === "deliver" && decision.action === "trigger" && deps.aggregates && opensIncident(state)) {
        const aggregate = await joinAggregate(state, decision.routingKeyRef, deps.aggregates);
        if (aggregate) return throughAggregate(state, aggregate.ref, aggregate.joined, deadline);
      }
      if (decision.kind === "none") {
        await deps.store.settle(state);
        if (delivered.length > 0) return deliveredOutcome();
        return recorded === "stale" ? { outcome: "stale", why: "older than the recorded state" } : { outcome: "deduplicated", why: decision.why, recorded };
      }
      if (decision.kind === "suppress") {
        // Recorded once per window, so duplicates during a window stay a single write.
        if (state.suppressedBy !== decision.window.id) await deps.store.markSuppressed(state.dedupKey, decision.window);
        return delivered.length > 0 ? deliveredOutcome() : { outcome: "suppressed", windowId: decision.window.id };
      }
      const claimId = newClaimId();
      const claimed = await deps.store.claim(
        state,
        {
          claimId,
          action: decision.action,
          severity: decision.severity,
          routingKeyRef: decision.routingKeyRef,
          route: decision.route,
          until: new Date(Math.max(deadline, now().getTime()) + CLAIM_MARGIN_MS).toISOString(),
        },
        now(),
      );
      if (!claimed) {
        const fresh = await deps.store.get(state.dedupKey);
        if (!fresh) return { outcome: "retry", reason: "state vanished while claiming" };
        const live = fresh.delivery && Date.parse(fresh.delivery.until) > now().getTime() ? fresh.delivery : undefined;
        if (live) {
          // The last failure says more than "someone else has it" if this ends in the DLQ.
          const lastError = fresh.lastDeliveryError ? ` (last error: ${fresh.lastDeliveryError})` : "";
          if (live.action === decision.action) return { outcome: "in_flight", why: `another router instance is delivering the ${live.action}${lastError}` };
          return { outcome: "retry", reason: `a ${live.action} is being delivered by another instance; the ${decision.action} follows it${lastError}` };
        }
        state = fresh;
        continue;
      }
      // A retry after a failure must not send what newer state has made wrong (a trigger after its resolve).
      const claimedState = state;
      const stillWanted = async () => {
        const current = await deps.store.get(claimedState.dedupKey);
        return current?.status === claimedState.status && current.transitionAt === claimedState.transitionAt;
      };
      const result = await deps.deliver(state.lastAlert, decision, deadline, stillWanted);
      if (decision.action === "trigger" && result.outcome !== "rejected" && result.uncertain) await deps.store.markUncertainTrigger(state.dedupKey, now());
      if (result.outcome !== "accepted") {
        const reason = result.outcome === "rejected" ? `PagerDuty rejected the ${decision.action}: ${result.message}` : result.reason;
        await deps.store.release(state.dedupKey, claimId, reason, { refused: result.outcome === "rejected" });
        if (result.outcome === "retry_later" && result.outdated) {
          // Decide again from the newer state (e.g. the resolve that made this trigger wrong).
          const fresh = await deps.store.get(state.dedupKey);
          if (fresh) {
            state = fresh;
            continue;
          }
        }
        return result.outcome === "rejected" ? { outcome: "rejected", reason } : { outcome: "retry", reason };
      }
      delivered.push(decision.action);
      // A resolve for a firing episode PagerDuty never accepted a trigger for: it was over before PagerDuty could be told.
      const unpaged = decision.action === "resolve" && state.status === "resolved" && state.openIn !== undefined && state.told?.action !== "trigger";
      if (unpaged) unpagedEpisode = true;
      const confirmed = await deps.store.confirm(state.dedupKey, claimId, {
        action: decision.action,
        routingKeyRef: decision.routingKeyRef,
        route: decision.route,
        severity: decision.severity,
        alertId: state.lastAlert.id,
        at: now().toISOString(),
        ...(state.members ? { members: Object.keys(state.members).length } : {}),
      }, state.transitionAt, { unpaged });
      if (confirmed?.uncertainTriggerAt && decision.action === "resolve") {
        // Counted from the last trigger attempt that got no answer: that is the one that may land last.
        const settleMs = deps.reResolveAfterMs ?? DEFAULT_RERESOLVE_AFTER_MS;
        const at = Math.max(now().getTime(), Date.parse(confirmed.uncertainTriggerAt) + settleMs);
        await deps.store.scheduleReResolve(confirmed, new Date(at));
      }
      // Lost claim: another instance took over after our lease; it re-sends, and PagerDuty folds the duplicate.
      if (!confirmed) return deliveredOutcome();
      state = confirmed;
    }
    return { outcome: "retry", reason: "state kept changing while delivering" };
  }

  return {
    async handleAlert(alert: NormalizedAlert, deadline: number): Promise<RouteOutcome> {
      const { outcome, state } = await deps.store.record(boundSourceClock(alert, deps.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS, now()), now());
      return reconcile(state, outcome, deadline);
    },
    /** For the sweep: re-decides a problem with no new event (e.g. its window ended). */
    async reconcileKey(dedupKey: string, deadline: number): Promise<RouteOutcome | undefined> {
      const state = await deps.store.get(dedupKey);
      if (!state) return undefined;
      const outcome = await reconcile(state, "repeat", deadline);
      // The table is the truth: what was owed went out without (or ahead of) its queue message.
      if (state.watch === "owed" && (outcome.outcome === "delivered" || (outcome.outcome === "grouped" && outcome.actions.length > 0))) {
        await deps.store.markRecovered(dedupKey, now());
        return { ...outcome, recovered: true };
      }
      return outcome;
    },
  };
}

export type Router = ReturnType<typeof createRouter>;
