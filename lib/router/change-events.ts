/**
 * PagerDuty change events in the router: a queue message of kind "pagerduty-change" (published by
 * the Events API v2 ingest, lib/ingest/pagerduty-events/) is routed with the same routes as alerts
 * and sent with the PagerDuty client's sendChange. Change events open no incidents and carry no
 * state: no DynamoDB, no windows, no deduplication. What PagerDuty refuses goes to the DLQ with
 * its reason; what cannot be sent yet comes back through SQS, like an alert's delivery.
 *
 * Routes match a change event on its labels plus `source` (the ingest, `events-v2`) and
 * `severity` = `info` (change events are informational); `dedupKey` is empty (they have none).
 */
import type { ChangeMessage } from "../messages/change-message.ts";
import type { MatchableAlert } from "../matchers/subject.ts";
import type { PagerDutyClient } from "../pagerduty/client.ts";
import { fitEventSize, type PagerDutyChangeEvent } from "../pagerduty/payloads.ts";
import { messageOutcome, sendWithRoutingKey, type ResolveRoutingKey } from "./deliver.ts";
import type { DeliveryOutcome, RetryOutcome } from "./router.ts";
import type { RouteMatch } from "./state.ts";

/** The severity routes see for a change event. */
export const CHANGE_EVENT_SEVERITY = "info" as const;

/** Sends one change event (without routing_key) with the key a route names, within the deadline. */
export type SendChange = (
  event: Omit<PagerDutyChangeEvent, "routing_key">,
  delivery: { routingKeyRef: string; route: string; messageId: string },
  deadline: number,
) => Promise<DeliveryOutcome>;

export type ChangeOutcome =
  | { outcome: "delivered"; route: string; routingKeyRef: string }
  /** PagerDuty refused it (400): resending cannot help; the message goes to the DLQ with this reason. */
  | { outcome: "rejected"; reason: string }
  /** Not sent now; the message must come back (SQS redelivery, then the DLQ). */
  | RetryOutcome;

export interface ChangeEventRouter {
  handleChange(message: ChangeMessage, deadline: number): Promise<ChangeOutcome>;
}

export interface ChangeEventRouterDeps {
  route: (subject: MatchableAlert) => RouteMatch;
  send: SendChange;
}

/** What routes match a change event on (see the header). */
export function changeSubject(message: ChangeMessage): MatchableAlert {
  return { labels: message.labels, source: message.source, severity: CHANGE_EVENT_SEVERITY, dedupKey: "" };
}

export function createChangeEventRouter(deps: ChangeEventRouterDeps): ChangeEventRouter {
  return {
    async handleChange(message, deadline) {
      const { route, routingKeyRef } = deps.route(changeSubject(message));
      const result = await deps.send(message.event, { route, routingKeyRef, messageId: message.id }, deadline);
      return messageOutcome(result, "change event", { outcome: "delivered", route, routingKeyRef });
    },
  };
}

/** Sending through the retrying PagerDuty client; the key is looked up by name at send time and never logged. */
export function createPagerDutyChangeSender(client: Pick<PagerDutyClient, "sendChange">, resolveKey: ResolveRoutingKey): SendChange {
  return (event, delivery, deadline) =>
    sendWithRoutingKey(resolveKey, delivery.routingKeyRef, (routingKey) =>
      client.sendChange(fitEventSize({ routing_key: routingKey, ...event }), { deadline }),
    );
}
