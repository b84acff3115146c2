/**
 * One console line per PagerDuty event, what a person running the stack wants to see scroll by:
 * when, the action, severity, summary, dedup key and route, and what became of it.
 */
import type { NormalizedAlert } from "../alert/schema.ts";
import type { Deliver, DeliveryOutcome } from "../router/router.ts";

export type DeliveryFacts = Parameters<Deliver>[1];

/** The route as the lines show it: its name, and the routing key's name when that differs. */
export function routeText(delivery: { route: string; routingKeyRef: string }): string {
  return delivery.route === delivery.routingKeyRef ? delivery.routingKeyRef : `${delivery.route} (key ${delivery.routingKeyRef})`;
}

export function describeDelivery(alert: NormalizedAlert, delivery: DeliveryFacts, result: string, at: Date = new Date()): string {
  const time = at.toISOString().slice(11, 19);
  const route = routeText(delivery);
  const what = `${delivery.action.toUpperCase().padEnd(7)}  ${delivery.severity.padEnd(8)}  ${alert.summary}`;
  return `${time}  ${what}  [dedup ${alert.dedupKey}, route ${route}]  → ${result}`;
}

function outcomeText(outcome: DeliveryOutcome): string {
  switch (outcome.outcome) {
    case "accepted":
      return "PagerDuty accepted";
    case "rejected":
      return `PagerDuty refused: ${outcome.message}`;
    case "retry_later":
      return `not delivered, will retry: ${outcome.reason}`;
  }
}

/** Prints every delivery and its outcome; the outcome itself is passed on untouched. */
export function withDeliveryLog(deliver: Deliver, print: (line: string) => void): Deliver {
  return async (alert, delivery, deadline) => {
    const outcome = await deliver(alert, delivery, deadline);
    print(describeDelivery(alert, delivery, outcomeText(outcome)));
    return outcome;
  };
}
