/**
 * PagerDuty acknowledges in the router: a queue message of kind "pagerduty-acknowledge" (published
 * by the Events API v2 ingest, lib/ingest/pagerduty-events/) is passed on to PagerDuty when
 * PagerDuty may have an incident for that dedup key of its own: the problem is firing, a trigger
 * for it may have reached PagerDuty (`openIn`), and it does not page through a group or storm
 * incident (that incident has other members: acknowledging it is a responder's call, in PagerDuty).
 *
 * The acknowledge goes where the trigger went (`openIn`, like a resolve), not where today's
 * routes would send it. It changes no state: the normalized contract knows firing and resolved
 * only, PagerDuty's acknowledges are idempotent, and one for a resolved or unknown key is dropped
 * by PagerDuty anyway. What PagerDuty refuses goes to the DLQ with its reason; what cannot be
 * sent yet (429, 5xx, a trigger still being delivered) comes back through SQS, like an alert.
 */
import type { AcknowledgeMessage } from "../messages/acknowledge-message.ts";
import type { PagerDutyClient } from "../pagerduty/client.ts";
import { activeMembership, isAggregate } from "./aggregates.ts";
import { messageOutcome, sendWithRoutingKey, type ResolveRoutingKey } from "./deliver.ts";
import type { DeliveryOutcome, RetryOutcome } from "./router.ts";
import type { StateStore } from "./stores.ts";
import type { OpenIn, ProblemState } from "./state.ts";

/** Sends one acknowledge for the dedup key with the key a route names, within the deadline. */
export type SendAcknowledge = (dedupKey: string, delivery: OpenIn, deadline: number) => Promise<DeliveryOutcome>;

/** Why an acknowledge was not passed on (the metric-friendly part; `why` says it in words). */
export type NotRelayedReason =
  /** No problem with this dedup key: never triggered, or forgotten after its retention. */
  | "unknown"
  /** The problem is resolved: PagerDuty's incident is (being) resolved too. */
  | "resolved"
  /** Firing, but PagerDuty was never told (held back by a suppression window, or not sent yet). */
  | "not_paged"
  /** It pages through a group or storm incident, or is one: other problems share that incident. */
  | "aggregate";

export type AcknowledgeDecision =
  | { kind: "relay"; to: OpenIn; why: string }
  | { kind: "drop"; reason: NotRelayedReason; why: string }
  /** The trigger is being delivered right now: the acknowledge must follow it, not overtake it. */
  | { kind: "wait"; why: string };

export type AcknowledgeOutcome =
  | { outcome: "relayed"; route: string; routingKeyRef: string }
  | { outcome: "not_relayed"; reason: NotRelayedReason; why: string }
  /** Not sent yet because its trigger is in flight; the message comes back (SQS redelivery, then the DLQ). */
  | { outcome: "in_flight"; why: string }
  /** PagerDuty refused it (400): resending cannot help; the message goes to the DLQ with this reason. */
  | { outcome: "rejected"; reason: string }
  /** Not sent now; the message must come back (SQS redelivery, then the DLQ). */
  | RetryOutcome;

/** How long an acknowledge waits for a trigger it may have overtaken on the queue (sent right after it). */
export const ACKNOWLEDGE_GRACE_MS = 60_000;

/**
 * Whether PagerDuty should hear an acknowledge for this problem, and where. Pure: the same state
 * and clock always give the same decision. With `mayWait` (a young acknowledge on its first
 * receive), an unknown or not-yet-paged problem gets one more try: its trigger may be right behind.
 */
export function decideAcknowledge(state: ProblemState | undefined, now: Date, mayWait = false): AcknowledgeDecision {
  const wait = { kind: "wait" as const, why: "its trigger may still be on its way: the acknowledge is tried once more" };
  if (!state) {
    if (mayWait) return wait;
    return {
      kind: "drop",
      reason: "unknown",
      why: "alert-relay knows no problem with this dedup key (never triggered, or forgotten after its retention)",
    };
  }
  if (isAggregate(state))
    return {
      kind: "drop",
      reason: "aggregate",
      why:
        `this is alert-relay's ${state.kind} incident ${state.rule ?? state.dedupKey}, ` +
        `shared by several problems: acknowledge it in PagerDuty`,
    };
  if (state.status === "resolved") return { kind: "drop", reason: "resolved", why: "the problem is resolved" };
  const membership = activeMembership(state);
  if (membership) {
    return {
      kind: "drop",
      reason: "aggregate",
      why:
        `the problem pages through the ${membership.kind} incident ${membership.key}, ` +
        `which other problems share: acknowledge it in PagerDuty`,
    };
  }
  if (!state.openIn) {
    if (mayWait && !state.suppressedBy) return wait;
    const why = state.suppressedBy
      ? `PagerDuty was never told: suppression window ${state.suppressedBy} holds the trigger back`
      : "PagerDuty was never told of this problem";
    return { kind: "drop", reason: "not_paged", why };
  }
  const claim = state.delivery;
  if (state.told?.action !== "trigger" && claim?.action === "trigger" && Date.parse(claim.until) > now.getTime()) {
    return { kind: "wait", why: "the trigger is being delivered; the acknowledge follows it" };
  }
  const why = state.told?.action === "trigger" ? "PagerDuty has the trigger" : "PagerDuty may have the trigger (not confirmed)";
  return { kind: "relay", to: { routingKeyRef: state.openIn.routingKeyRef, route: state.openIn.route }, why };
}

export interface AcknowledgeRouter {
  /** `receiveCount`: SQS's ApproximateReceiveCount, so an acknowledge waits for its trigger at most once. */
  handleAcknowledge(message: AcknowledgeMessage, deadline: number, receiveCount?: number): Promise<AcknowledgeOutcome>;
}

export interface AcknowledgeRouterDeps {
  store: Pick<StateStore, "get">;
  send: SendAcknowledge;
  now?: () => Date;
}

export function createAcknowledgeRouter(deps: AcknowledgeRouterDeps): AcknowledgeRouter {
  const now = deps.now ?? (() => new Date());
  return {
    async handleAcknowledge(message, deadline, receiveCount = 1) {
      const at = now();
      const mayWait = receiveCount <= 1 && at.getTime() - Date.parse(message.receivedAt) < ACKNOWLEDGE_GRACE_MS;
      const decision = decideAcknowledge(await deps.store.get(message.dedupKey), at, mayWait);
      if (decision.kind === "drop") return { outcome: "not_relayed", reason: decision.reason, why: decision.why };
      if (decision.kind === "wait") return { outcome: "in_flight", why: decision.why };
      const result = await deps.send(message.dedupKey, decision.to, deadline);
      return messageOutcome(result, "acknowledge", { outcome: "relayed", ...decision.to });
    },
  };
}

/** Sending through the retrying PagerDuty client; the key is looked up by name at send time and never logged. */
export function createPagerDutyAcknowledgeSender(client: Pick<PagerDutyClient, "send">, resolveKey: ResolveRoutingKey): SendAcknowledge {
  return (dedupKey, delivery, deadline) =>
    sendWithRoutingKey(resolveKey, delivery.routingKeyRef, (routingKey) =>
      client.send({ routing_key: routingKey, event_action: "acknowledge", dedup_key: dedupKey }, { deadline }),
    );
}
