/**
 * Routes one alert: record it, decide from the recorded state what PagerDuty should hear, claim
 * that delivery, deliver, confirm. Each step is a conditional write, so a crash between steps, a
 * redelivered message or a concurrent instance leaves the state in a place the next attempt
 * (or the sweep) completes from, without a second page.
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_CLOCK_SKEW_MS, boundSourceClock } from "../alert/clock.ts";
import type { NormalizedAlert } from "../alert/schema.ts";
import type { Policies } from "../routes/policies.ts";
import {
  activeMembership,
  countChange,
  groupTargetFor,
  isAggregate,
  isSynced,
  stormTarget,
  withDerivedAlert,
  type AggregateKind,
  type AggregateRef,
  type AggregateTarget,
} from "./aggregates.ts";
import { decide, type Decision } from "./decide.ts";
import {
  carryAlert,
  type DeliveryClaim,
  type PagerDutyAction,
  type ProblemState,
  type RouteMatch,
  type SuppressionMatch,
} from "./state.ts";
import type { AggregateStore, RecordOutcome, StateStore } from "./stores.ts";

/** `uncertain`: an attempt got no answer, so PagerDuty may have the event, or may process it late. */
export type DeliveryOutcome =
  | { outcome: "accepted"; uncertain?: boolean }
  | { outcome: "rejected"; message: string }
  /**
   * `pauseMs`: PagerDuty answered 429; the routing key waits this long for every instance. `outdated`: not retried, newer state made it
   * wrong.
   */
  | {
      outcome: "retry_later";
      reason: string;
      retryAfterMs?: number;
      uncertain?: boolean;
      outdated?: boolean;
      pauseMs?: number;
      /** 0: nothing reached PagerDuty. */ attempts?: number;
    };

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
  /** PagerDuty was tried and failed (not a pacing wait, a missing key or a race): a later success means it is back. */
  pagerDutyFailed?: boolean;
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
  /**
   * Not delivered now; the message must come back, after `retryAfterMs` when known (a per-message delay, never the DLQ for waiting alone).
   */
  | RetryOutcome
  /** PagerDuty refused the event (400): retrying cannot help; the message goes to the DLQ with this reason. */
  | { outcome: "rejected"; reason: string };

/** A trigger abandoned without an answer is processed late, if at all, within about this: then the resolve goes again. */
export const DEFAULT_RERESOLVE_AFTER_MS = 60_000;

/** How far past the caller's deadline a claim stays reserved, so a slow but live instance keeps it. */
const CLAIM_MARGIN_MS = 5_000;
/** A claim that is confirmed may reveal newer state (a resolve that arrived meanwhile): handle a few rounds. */
const MAX_ROUNDS = 4;

/** Claims the write that recorded an alert took (RecordOptions), by id. */
interface TakenClaims {
  /** A new problem's, to judge it against groups and storms (newProblemJudging). */
  judging?: string;
  /** A resolve's delivery claim. */
  delivery?: string;
  /** A member's claim for counting its resolve into its aggregate. */
  member?: string;
}

const sameTarget = (a: Pick<DeliveryClaim, "routingKeyRef" | "route">, b: Pick<DeliveryClaim, "routingKeyRef" | "route">) =>
  a.routingKeyRef === b.routingKeyRef && a.route === b.route;

export function createRouter(deps: RouterDeps) {
  const now = deps.now ?? (() => new Date());
  const newClaimId = deps.newClaimId ?? randomUUID;

  const policies = deps.policies ?? {};

  /** `knownWindow`: the windows were already looked up for this state (a new problem judged before it was recorded). */
  async function decisionFor(state: ProblemState, knownWindow?: { window: SuppressionMatch | undefined }): Promise<Decision> {
    const alert = state.lastAlert;
    // Members were checked against windows before they joined; the aggregate itself is not.
    const window = knownWindow
      ? knownWindow.window
      : state.status === "firing" && !isAggregate(state)
        ? await deps.findWindow(alert, now())
        : undefined;
    return decide(state, window, deps.route(alert), { now: now(), flapping: isAggregate(state) ? undefined : policies.flapping });
  }

  /** A trigger that would open a new PagerDuty incident for this problem (not a re-send, raise or aggregate). */
  const opensIncident = (state: ProblemState) => !isAggregate(state) && !state.openIn && state.told?.action !== "trigger";

  const lease = (deadline: number) => new Date(Math.max(deadline, now().getTime()) + CLAIM_MARGIN_MS).toISOString();

  /** A member another instance is counting (or that changed meanwhile): done if its state is counted, else it comes back. */
  async function busyMember(dedupKey: string): Promise<RouteOutcome> {
    const fresh = await deps.store.get(dedupKey);
    const ref = fresh && activeMembership(fresh);
    if (fresh && ref && isSynced(fresh, ref)) return { outcome: "deduplicated", why: `pages through ${ref.key}`, recorded: "repeat" };
    const claim = fresh?.aggregate?.claim;
    if (claim && Date.parse(claim.until) > now().getTime())
      return { outcome: "in_flight", why: `another router instance is counting this problem into ${fresh.aggregate!.key}` };
    return { outcome: "retry", reason: "the problem changed while it was being counted into its group or storm incident" };
  }

  /**
   * Counts a claimed member's change into its aggregate (apply, commit, finish: see
   * lib/state-table/aggregate-store.ts) and brings the aggregate's PagerDuty alert up to date. Undefined when the
   * aggregate would not take it (a group past its join window): the claim is still held then.
   */
  async function countInto(
    member: ProblemState,
    target: AggregateTarget,
    ref: AggregateRef,
    claimId: string,
    deadline: number,
  ): Promise<RouteOutcome | undefined> {
    const aggregates = deps.aggregates!;
    const change = countChange(member, ref);
    let counted = change?.counted ?? ref.synced;
    let episode = ref.episode;
    let aggregate: ProblemState | undefined;
    if (change && (change.members !== 0 || change.firing !== 0)) {
      const result = await aggregates.apply(target, ref, member, change, now());
      if (result.outcome === "closed") return undefined;
      if (result.outcome === "busy") return { outcome: "retry", reason: `${ref.key} kept changing under racing router instances` };
      if (result.outcome === "applied") {
        aggregate = result.aggregate;
        episode = result.episode;
        if (change.firing === 1) counted = { ...change.counted, tally: result.tally };
      }
    }
    // Recorded on the member before anything is delivered: a redelivered message goes on through this aggregate.
    const committed = await aggregates.commit(member, claimId, ref, counted!, episode);
    if (!committed) return busyMember(member.dedupKey);
    if (!committed.settled) await deps.store.settle(member);
    if (change && aggregate) {
      const nothingFires = aggregate.status === "firing" && (aggregate.firingCount ?? 0) <= 0 && episode ? { episode } : undefined;
      aggregate = (await aggregates.finish(ref.key, member.dedupKey, change.op, nothingFires, now())) ?? aggregate;
    }
    const actions: PagerDutyAction[] = [];
    if (aggregate) {
      // The member is counted whatever PagerDuty says now: a failed or paced update of the aggregate is the sweep's to finish (the
      // aggregate is watched).
      const result = await reconcile(aggregate, "repeat", deadline);
      if (result.outcome === "delivered") actions.push(...result.actions);
      if (result.outcome === "rejected") return result;
    }
    return { outcome: "grouped", into: ref.key, kind: ref.kind, actions };
  }

  /**
   * A new incident joins its group if a rule matches and the group's window is open; else, when
   * its routing key is storming, the storm incident. Else it pages on its own: `pagesAlone` is the
   * member's claim when one was taken, for the trigger's delivery claim to end (one write fewer). The
   * member is claimed before the storm gate counts it, so a redelivered or raced copy never counts twice.
   */
  async function joinAggregate(
    state: ProblemState,
    routingKeyRef: string,
    deadline: number,
    judging?: string,
  ): Promise<RouteOutcome | { pagesAlone: string | undefined }> {
    const aggregates = deps.aggregates!;
    const targets = aggregateTargets(state.lastAlert, routingKeyRef);
    if (targets.length === 0) return { pagesAlone: undefined };
    // `judging`: the claim the write that recorded this new problem took for its first target.
    const claimId = judging ?? newClaimId();
    let claimed = false;
    for (const target of targets) {
      const ref: AggregateRef = { key: target.key, kind: target.kind, rule: target.rule };
      const taken = judging !== undefined && !claimed && state.aggregate?.key === target.key;
      if (!taken && !(await aggregates.claim(state, ref, { id: claimId, until: lease(deadline) }, now(), true))) {
        if (claimed) break;
        // Judged to page on its own already (a redelivered or raced copy): it does, without counting again.
        const fresh = await deps.store.get(state.dedupKey);
        if (fresh && fresh.gatedAt === state.transitionAt && fresh.status === state.status) return { pagesAlone: undefined };
        return busyMember(state.dedupKey);
      }
      claimed = true;
      if (target.kind === "storm") {
        // Only incidents that would really open count. A key storms from the first new incident over
        // the rate in a clock minute, and keeps storming until a whole minute stayed within it.
        const counts = await aggregates.countNewIncident(routingKeyRef, now());
        const limit = policies.storm!.newIncidentsPerMinute;
        if (counts.thisMinute <= limit && counts.lastMinute <= limit) break;
      }
      const joined = await countInto(state, target, ref, claimId, deadline);
      if (joined) return joined;
    }
    return { pagesAlone: claimed ? claimId : undefined };
  }

  /** The group and storm incidents a new incident may join, in the order it tries them. */
  function aggregateTargets(alert: NormalizedAlert, routingKeyRef: string): AggregateTarget[] {
    const group = policies.groups?.length ? groupTargetFor(policies.groups, alert) : undefined;
    return [...(group ? [group] : []), ...(policies.storm ? [stormTarget(routingKeyRef)] : [])];
  }

  /**
   * For a problem's first firing, asked by the store only when it has no state item: the member's
   * claim for judging it against its first group or storm target, so the write that creates the item
   * takes it (one write fewer). Such a state always decides to trigger unless a window suppresses
   * it, so the windows are looked up here: a suppressed problem takes no claim, and one that took it
   * is decided with this answer (no window), as if looked up once after recording. The same claim
   * AggregateStore.claim would take.
   */
  function newProblemJudging(alert: NormalizedAlert, deadline: number) {
    const judged: { claimId?: string } = {};
    const claim = async (): Promise<AggregateRef | undefined> => {
      if (!deps.aggregates) return undefined;
      const [target] = aggregateTargets(alert, deps.route(alert).routingKeyRef);
      if (!target || (await deps.findWindow(alert, now()))) return undefined;
      judged.claimId = newClaimId();
      return { key: target.key, kind: target.kind, rule: target.rule, claim: { id: judged.claimId, until: lease(deadline) } };
    };
    return { judged, claim };
  }

  /** A member's later change reaches PagerDuty through its aggregate: claimed, then counted. */
  async function throughAggregate(member: ProblemState, ref: AggregateRef, deadline: number, taken?: string): Promise<RouteOutcome> {
    const aggregates = deps.aggregates!;
    const claimId = taken ?? newClaimId();
    // Taken by the write that recorded the change: its answer holds what the aggregate has counted, as the claim's would.
    const claimed =
      taken !== undefined && member.aggregate?.claim?.id === taken
        ? member
        : await aggregates.claim(member, ref, { id: claimId, until: lease(deadline) }, now(), false);
    if (!claimed?.aggregate) return busyMember(member.dedupKey);
    // What the aggregate has counted of it is read in the claim's own answer: the change is computed from that, never from an older read.
    const current = claimed.aggregate;
    if (isSynced(claimed, current)) {
      if (!(await aggregates.commit(claimed, claimId, current, current.synced!, current.episode))?.settled)
        await deps.store.settle(claimed);
      return { outcome: "deduplicated", why: `pages through ${current.key}`, recorded: "repeat" };
    }
    // Joinable for as long as it is open: a redelivery goes on through the aggregate it joined.
    const target: AggregateTarget = { key: current.key, kind: current.kind, rule: current.rule, windowMs: undefined };
    const counted = await countInto(claimed, target, current, claimId, deadline);
    if (counted) return counted;
    // It resolved before it was ever counted, and the aggregate has closed: nothing was paged for it.
    await aggregates.commit(claimed, claimId, current, { status: claimed.status, at: claimed.transitionAt }, current.episode);
    return { outcome: "grouped", into: current.key, kind: current.kind, actions: [] };
  }

  /**
   * An aggregate as decide needs it: resolved once nothing fires in it (normally the last leave's
   * own write; here after a crash between that leave's steps), with its alert derived from the counts.
   */
  async function prepareAggregate(state: ProblemState): Promise<ProblemState> {
    let item = state;
    if (item.status === "firing" && (item.firingCount ?? 0) <= 0)
      item = (await deps.aggregates?.settle(item, now())) ?? (await deps.store.get(item.dedupKey)) ?? item;
    return withDerivedAlert(item, now());
  }

  /** Brings PagerDuty in line with the recorded state of one problem. `recordClaims`: claims its recording took (RecordOptions). */
  async function reconcile(
    initial: ProblemState,
    recorded: RecordOutcome,
    deadline: number,
    recordClaims: TakenClaims = {},
  ): Promise<RouteOutcome> {
    let state = initial;
    const { judging, delivery: resolveClaimed } = recordClaims;
    // A claim to be judged is no membership.
    const membership = !judging && !isAggregate(state) && deps.aggregates && activeMembership(state);
    if (membership) {
      // Not synced when the claim was taken with the resolve (the write's condition), so the claim goes on through the aggregate.
      if (isSynced(state, membership)) {
        await deps.store.settle(state);
        return { outcome: "deduplicated", why: `pages through ${membership.key}`, recorded };
      }
      return throughAggregate(state, membership, deadline, recordClaims.member);
    }
    const delivered: PagerDutyAction[] = [];
    let unpagedEpisode = false;
    const deliveredOutcome = (): RouteOutcome => ({
      outcome: "delivered",
      actions: delivered,
      recorded,
      ...(unpagedEpisode ? { unpaged: true } : {}),
    });
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      if (isAggregate(state)) state = await prepareAggregate(state);
      const decision = await decisionFor(state, round === 0 && judging ? { window: undefined } : undefined);
      // The resolve's claim its recording took is this decision's (its conditions on the item made sure); were it not, it ends here.
      const held = round === 0 && resolveClaimed !== undefined ? state.delivery : undefined;
      const taken =
        held !== undefined &&
        decision.kind === "deliver" &&
        held.action === decision.action &&
        sameTarget(held, decision) &&
        held.severity === decision.severity;
      if (held && !taken)
        await deps.store.release(state.dedupKey, held.claimId, "the claim taken with the resolve was not what it decided");
      if (decision.kind === "hold") {
        if (state.watch !== "held") await deps.store.markHeld(state, decision.until);
        return delivered.length > 0 ? deliveredOutcome() : { outcome: "held", until: decision.until, why: decision.why };
      }
      // The member's claim taken to judge it against groups and storms, ended by the trigger's delivery claim.
      let gate: string | undefined;
      if (decision.kind === "deliver" && decision.action === "trigger" && deps.aggregates && opensIncident(state)) {
        const joined = await joinAggregate(state, decision.routingKeyRef, deadline, round === 0 ? judging : undefined);
        if (!("pagesAlone" in joined)) return joined;
        gate = joined.pagesAlone;
      }
      if (decision.kind === "none") {
        await deps.store.settle(state);
        // A resolved aggregate PagerDuty owes nothing to leaves the sweep's list.
        if (isAggregate(state) && state.status === "resolved" && state.watch === "aggregate" && !state.openIn)
          await deps.aggregates?.unwatch(state);
        if (delivered.length > 0) return deliveredOutcome();
        return recorded === "stale"
          ? { outcome: "stale", why: "older than the recorded state" }
          : { outcome: "deduplicated", why: decision.why, recorded };
      }
      if (decision.kind === "suppress") {
        // Recorded once per window, so duplicates during a window stay a single write.
        if (state.suppressedBy !== decision.window.id) await deps.store.markSuppressed(state.dedupKey, decision.window);
        return delivered.length > 0 ? deliveredOutcome() : { outcome: "suppressed", windowId: decision.window.id };
      }
      const claimId = taken ? held!.claimId : newClaimId();
      const claimed =
        taken ||
        (await deps.store.claim(
          state,
          {
            claimId,
            action: decision.action,
            severity: decision.severity,
            routingKeyRef: decision.routingKeyRef,
            route: decision.route,
            until: lease(deadline),
          },
          now(),
          gate,
        ));
      if (!claimed) {
        // Judged to page on its own, but not claimed (the state changed meanwhile): the member's claim ends on its own write.
        if (gate) await deps.aggregates!.release(state, gate);
        const fresh = await deps.store.get(state.dedupKey);
        if (!fresh) return { outcome: "retry", reason: "state vanished while claiming" };
        const live = fresh.delivery && Date.parse(fresh.delivery.until) > now().getTime() ? fresh.delivery : undefined;
        if (live) {
          // The last failure says more than "someone else has it" if this ends in the DLQ.
          const lastError = fresh.lastDeliveryError ? ` (last error: ${fresh.lastDeliveryError})` : "";
          if (live.action === decision.action)
            return { outcome: "in_flight", why: `another router instance is delivering the ${live.action}${lastError}` };
          return {
            outcome: "retry",
            reason: `a ${live.action} is being delivered by another instance; the ${decision.action} follows it${lastError}`,
          };
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
      if (decision.action === "trigger" && result.outcome !== "rejected" && result.uncertain)
        await deps.store.markUncertainTrigger(state.dedupKey, now());
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
        if (result.outcome === "rejected") return { outcome: "rejected", reason };
        return {
          outcome: "retry",
          reason,
          ...(result.retryAfterMs !== undefined ? { retryAfterMs: result.retryAfterMs } : {}),
          ...((result.attempts ?? 0) > 0 ? { pagerDutyFailed: true } : {}),
        };
      }
      delivered.push(decision.action);
      // A resolve for a firing episode PagerDuty never accepted a trigger for: it was over before PagerDuty could be told.
      const unpaged =
        decision.action === "resolve" && state.status === "resolved" && state.openIn !== undefined && state.told?.action !== "trigger";
      if (unpaged) unpagedEpisode = true;
      const confirmed = await deps.store.confirm(
        state.dedupKey,
        claimId,
        {
          action: decision.action,
          routingKeyRef: decision.routingKeyRef,
          route: decision.route,
          severity: decision.severity,
          alertId: state.lastAlert.id,
          at: now().toISOString(),
          ...(isAggregate(state) ? { members: state.memberCount ?? 0, firing: state.firingCount ?? 0 } : {}),
        },
        state.transitionAt,
        { unpaged },
      );
      if (confirmed?.uncertainTriggerAt && decision.action === "resolve") {
        // Counted from the last trigger attempt that got no answer: that is the one that may land last.
        const settleMs = deps.reResolveAfterMs ?? DEFAULT_RERESOLVE_AFTER_MS;
        const at = Math.max(now().getTime(), Date.parse(confirmed.uncertainTriggerAt) + settleMs);
        await deps.store.scheduleReResolve(confirmed, new Date(at));
      }
      // Lost claim: another instance took over after our lease; it re-sends, and PagerDuty folds the duplicate.
      if (!confirmed) return deliveredOutcome();
      // A firing recorded meanwhile has an alert of its own: read it with the state.
      state = carryAlert(confirmed, state) ?? (await deps.store.get(state.dedupKey)) ?? confirmed;
    }
    return { outcome: "retry", reason: "state kept changing while delivering" };
  }

  return {
    async handleAlert(alert: NormalizedAlert, deadline: number): Promise<RouteOutcome> {
      const bounded = boundSourceClock(alert, deps.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS, now());
      const { judged, claim } = newProblemJudging(bounded, deadline);
      // A resolve's write takes the claim the router would take next (RecordOptions): its delivery's, or as a member, the counting's.
      const resolving = bounded.status === "resolved";
      const resolveClaim = resolving
        ? { claimId: newClaimId(), until: lease(deadline), ...(policies.flapping ? { maxChanges: policies.flapping.changes } : {}) }
        : undefined;
      const memberClaim = resolving && deps.aggregates ? { id: newClaimId(), until: lease(deadline) } : undefined;
      const { outcome, state } = await deps.store.record(bounded, now(), {
        newProblemClaim: claim,
        ...(resolveClaim ? { resolveClaim } : {}),
        ...(memberClaim ? { memberClaim } : {}),
      });
      const memberClaimId = state.aggregate?.claim?.id;
      return reconcile(state, outcome, deadline, {
        ...(judged.claimId !== undefined && memberClaimId === judged.claimId ? { judging: judged.claimId } : {}),
        ...(resolveClaim && state.delivery?.claimId === resolveClaim.claimId ? { delivery: resolveClaim.claimId } : {}),
        ...(memberClaim && memberClaimId === memberClaim.id ? { member: memberClaim.id } : {}),
      });
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
