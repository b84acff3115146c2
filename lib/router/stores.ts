/**
 * What the router needs from storage (ports). The DynamoDB implementations live with the state
 * table's owner (lib/state-table/), which imports these; the router never imports storage.
 */
import type { NormalizedAlert } from "../alert/schema.ts";
import type { AggregateRef, AggregateTarget, CountChange, CountedState } from "./aggregates.ts";
import type { DeliveryClaim, ProblemState, SuppressionMatch, ToldRecord } from "./state.ts";

/** How a recorded observation related to what was known. */
export type RecordOutcome = "new" | "transition" | "repeat" | "stale";

export interface RecordOptions {
  /**
   * Asked only for a firing of a problem that has no state item yet: the member's claim to judge it
   * against groups and storms (AggregateStore.claim with `fresh`), then taken by the same write that
   * creates the item, so the first firing needs no write of its own for it. Undefined: no claim.
   */
  newProblemClaim?: () => Promise<AggregateRef | undefined>;
  /**
   * For a resolve: the delivery claim the router takes next when the problem fired with its trigger
   * open somewhere (`openIn`), taken by the resolve's own write instead, with the action, severity and
   * key the router would decide (the resolve, to where the trigger went) and only if that claim's
   * conditions hold on the item: no live claim, not a group or storm member, and (with a flapping
   * policy) fewer than `maxChanges` changes, so it cannot be held. The state returned carries it.
   */
  resolveClaim?: { claimId: string; until: string; maxChanges?: number };
  /**
   * For a resolve of a group or storm member: the member's claim for counting the change into its
   * aggregate (AggregateStore.claim, not `fresh`), taken by the resolve's own write when the
   * membership is active and no other instance holds a live claim. The state returned carries it.
   */
  memberClaim?: { id: string; until: string };
}

export interface StateStore {
  /** The state it returns carries the recorded alert (or, for an older event, the stored one). */
  record(alert: NormalizedAlert, now: Date, options?: RecordOptions): Promise<{ outcome: RecordOutcome; state: ProblemState }>;
  /** The state with its stored alert (a placeholder built from the state when it never fired). */
  get(dedupKey: string): Promise<ProblemState | undefined>;
  /**
   * Claims a delivery if no live claim exists and what was told is still `expectedTold`. `gate`: the
   * member's claim taken to judge it against groups and storms (AggregateStore.claim); the same write
   * ends it as AggregateStore.release does, recording the state judged to page on its own.
   */
  claim(state: ProblemState, claim: DeliveryClaim, now: Date, gate?: string): Promise<boolean>;
  /**
   * Records what PagerDuty accepted and ends the claim; undefined if the claim was lost meanwhile.
   * The state returned carries no alert (state.ts carryAlert).
   * `transitionAt` is the state the delivery was for: only if it is still current is the problem
   * no longer owed (a resolve recorded meanwhile stays owed).
   */
  confirm(
    dedupKey: string,
    claimId: string,
    told: ToldRecord,
    transitionAt?: string,
    options?: { unpaged?: boolean },
  ): Promise<ProblemState | undefined>;
  /** A trigger attempt got no answer: a later resolve is sent once more after a settle delay. */
  markUncertainTrigger(dedupKey: string, now: Date): Promise<void>;
  /** After a confirmed resolve that followed an uncertain trigger: the sweep re-sends the resolve at `at`. */
  scheduleReResolve(state: ProblemState, at: Date): Promise<void>;
  /** The problem's change needs nothing from PagerDuty (a duplicate state, a group member, never paged): no longer owed. */
  settle(state: ProblemState): Promise<void>;
  /** The sweep delivered what the problem's own message did not (lost, or failing longer than the grace period). */
  markRecovered(dedupKey: string, now: Date): Promise<void>;
  /** Ends a claim whose delivery failed, keeping the reason for `state show`. */
  release(dedupKey: string, claimId: string, error: string, options?: { refused?: boolean }): Promise<void>;
  markSuppressed(dedupKey: string, window: SuppressionMatch): Promise<void>;
  /** A flapping problem's resolve waits until `until`: the sweep looks again then. Counted once per hold. */
  markHeld(state: ProblemState, until: string): Promise<void>;
  /**
   * Dedup keys the sweep must look at again: suppressed while firing, a resolve held while
   * flapping, an open group or storm incident, a resolve re-send due by `now` (the caller's clock), and (with `owedBefore`) every problem
   * whose recorded
   * change PagerDuty has not been told since before that instant.
   */
  watched(options?: { owedBefore?: Date; onlyOwed?: boolean; now?: Date }): AsyncIterable<string>;
  /** The problems' state items, without their alerts. */
  list(options?: { firing?: boolean }): AsyncIterable<ProblemState>;
}

/** What applying a count change came to. */
export type ApplyResult =
  /** Counted now (or by an earlier attempt whose entry is still pending): the aggregate after it. */
  | { outcome: "applied"; aggregate: ProblemState; episode: string; tally: string[] }
  /** The episode it was counted in has ended: its resolve was taken in long ago. */
  | { outcome: "gone" }
  /** Not joinable: open but past its join window. */
  | { outcome: "closed" }
  /** The aggregate kept changing under racing instances: try again later (the member's claim lapses). */
  | { outcome: "busy" };

export interface AggregateStore {
  /** Claims the member for counting (a lease); `fresh` when it is joining, not yet a member. The member after, or undefined. */
  claim(
    member: ProblemState,
    ref: AggregateRef,
    claim: { id: string; until: string },
    now: Date,
    fresh: boolean,
  ): Promise<ProblemState | undefined>;
  /** Gives up a claim taken for a join that did not happen: the member pages on its own (recorded, so a copy is not judged again). */
  release(member: ProblemState, claimId: string): Promise<void>;
  /** Applies one count change of a member to the aggregate, once. */
  apply(target: AggregateTarget, ref: AggregateRef, member: ProblemState, change: CountChange, now: Date): Promise<ApplyResult>;
  /**
   * Records on the member what the aggregate has counted, ending the claim; undefined when the claim
   * was lost. `settled`: the same write ended the member's "owed" mark (its change needs nothing more).
   */
  commit(
    member: ProblemState,
    claimId: string,
    ref: AggregateRef,
    counted: CountedState,
    episode: string | undefined,
  ): Promise<{ settled: boolean } | undefined>;
  /**
   * Drops the member's pending entry; when nothing fires any more the aggregate resolves in the same write. The aggregate after, if it
   * changed.
   */
  finish(
    aggregateKey: string,
    memberKey: string,
    op: string,
    nothingFires: { episode: string } | undefined,
    now: Date,
  ): Promise<ProblemState | undefined>;
  /** Resolves an open aggregate nothing fires in any more (the sweep's repair after a crash). */
  settle(aggregate: ProblemState, now: Date): Promise<ProblemState | undefined>;
  /** A resolved aggregate PagerDuty owes nothing to leaves the sweep's list. */
  unwatch(aggregate: ProblemState): Promise<void>;
  /** The members counted in the aggregate's current episode, paged from their own items (a scan: for people, not the router). */
  members(aggregate: Pick<ProblemState, "dedupKey" | "openedAt">): AsyncIterable<ProblemState>;
  /** Counts one new incident for a routing key; returns the counts of this clock minute (including it) and the one before. */
  countNewIncident(routingKeyRef: string, now: Date): Promise<{ thisMinute: number; lastMinute: number }>;
}
