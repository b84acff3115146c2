/**
 * The router's delivery step: build the PagerDuty event for a decision, look up the routing key
 * by its reference (keys are secrets: resolved at send time, never stored or logged), send.
 */
import type { PagerDutyClient, Rejected, RetryLater } from "../pagerduty/client.ts";
import { toPagerDutyEvent } from "../pagerduty/payloads.ts";
import type { Deliver, DeliveryOutcome, RetryOutcome } from "./router.ts";
import { DEFAULT_PAUSE_MS } from "./pacing.ts";

export type ResolveRoutingKey = (ref: string) => Promise<string>;

/** A queue message PagerDuty did not take: refused (the DLQ, with PagerDuty's reason) or not yet (back through SQS). */
export type NotDelivered = { outcome: "rejected"; reason: string } | RetryOutcome;

/**
 * What a delivery's result means for the queue message it came from (a change event, an
 * acknowledge): `accepted` when PagerDuty took it, else rejected (naming `what` PagerDuty refused)
 * or retry.
 */
export function messageOutcome<Accepted>(result: DeliveryOutcome, what: string, accepted: Accepted): Accepted | NotDelivered {
  switch (result.outcome) {
    case "accepted":
      return accepted;
    case "rejected":
      return { outcome: "rejected", reason: `PagerDuty refused the ${what}: ${result.message}` };
    case "retry_later":
      return {
        outcome: "retry",
        reason: result.reason,
        ...(result.retryAfterMs !== undefined ? { retryAfterMs: result.retryAfterMs } : {}),
      };
  }
}

export function createPagerDutyDeliver(client: Pick<PagerDutyClient, "send">, resolveKey: ResolveRoutingKey): Deliver {
  return (alert, delivery, deadline, stillWanted) =>
    sendWithRoutingKey(resolveKey, delivery.routingKeyRef, (routingKey) =>
      client.send(toPagerDutyEvent({ ...alert, severity: delivery.severity }, delivery.action, routingKey), {
        deadline,
        ...(stillWanted ? { stillWanted } : {}),
      }),
    );
}

/**
 * Looks the routing key up by name, sends with it, and says what became of the event: the one
 * place alert and change events share (the key is never logged; a missing key is retried).
 */
export async function sendWithRoutingKey(
  resolveKey: ResolveRoutingKey,
  routingKeyRef: string,
  send: (routingKey: string) => Promise<{ outcome: "accepted"; uncertain?: true } | Rejected | RetryLater>,
): Promise<DeliveryOutcome> {
  let routingKey: string;
  try {
    routingKey = await resolveKey(routingKeyRef);
  } catch (error) {
    // Usually a secret not filled in yet: worth retrying until an operator fixes it, then the DLQ.
    return { outcome: "retry_later", reason: `no routing key for "${routingKeyRef}": ${(error as Error).message}`, attempts: 0 };
  }
  const result = await send(routingKey);
  switch (result.outcome) {
    case "accepted":
      return { outcome: "accepted", ...(result.uncertain ? { uncertain: true } : {}) };
    case "rejected":
      return {
        outcome: "rejected",
        message: `${result.status} ${result.message}${result.errors.length ? `: ${result.errors.join("; ")}` : ""}`,
      };
    case "retry_later":
      return {
        outcome: "retry_later",
        reason: `${result.reason} (after ${result.attempts} attempts)`,
        attempts: result.attempts,
        ...(result.retryAfterMs !== undefined ? { retryAfterMs: result.retryAfterMs } : {}),
        ...(result.uncertain ? { uncertain: true } : {}),
        ...(result.stoppedBy === "outdated" ? { outdated: true } : {}),
        // A 429 pauses the key for every instance (lib/router/pacing.ts): for Retry-After, else a minute.
        ...(result.rateLimited ? { pauseMs: result.rateLimited.retryAfterMs ?? DEFAULT_PAUSE_MS } : {}),
      };
  }
}
