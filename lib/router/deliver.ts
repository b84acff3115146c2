/**
 * The router's delivery step: build the PagerDuty event for a decision, look up the routing key
 * by its reference (keys are secrets: resolved at send time, never stored or logged), send.
 */
import type { PagerDutyClient } from "../pagerduty/client.ts";
import { toPagerDutyEvent } from "../pagerduty/events.ts";
import type { Deliver } from "./router.ts";

export type ResolveRoutingKey = (ref: string) => Promise<string>;

export function createPagerDutyDeliver(client: Pick<PagerDutyClient, "send">, resolveKey: ResolveRoutingKey): Deliver {
  return async (alert, delivery, deadline) => {
    let routingKey: string;
    try {
      routingKey = await resolveKey(delivery.routingKeyRef);
    } catch (error) {
      // Usually a secret not filled in yet: worth retrying until an operator fixes it, then the DLQ.
      return { outcome: "retry_later", reason: `no routing key for "${delivery.routingKeyRef}": ${(error as Error).message}` };
    }
    const event = toPagerDutyEvent({ ...alert, severity: delivery.severity }, delivery.action, routingKey);
    const result = await client.send(event, { deadline });
    switch (result.outcome) {
      case "accepted":
        return { outcome: "accepted" };
      case "rejected":
        return { outcome: "rejected", message: `${result.status} ${result.message}${result.errors.length ? `: ${result.errors.join("; ")}` : ""}` };
      case "retry_later":
        return { outcome: "retry_later", reason: `${result.reason} (after ${result.attempts} attempts)` };
    }
  };
}
