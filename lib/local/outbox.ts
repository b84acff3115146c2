/**
 * The dry-run PagerDuty: with no routing key configured the local stack still runs every
 * decision, and each event that would have been sent is printed and appended to an outbox file
 * as one JSON line — the exact event, with the routing key replaced, so it can be read, diffed
 * or replayed against PagerDuty with a real key.
 */
import { appendFile } from "node:fs/promises";
import { basename } from "node:path";
import { toPagerDutyEvent } from "../pagerduty/payloads.ts";
import { redactedJson } from "../platform/redact.ts";
import type { SendAcknowledge } from "../router/acknowledge.ts";
import type { SendChange } from "../router/change-events.ts";
import type { Deliver, DeliveryOutcome } from "../router/router.ts";
import { describeDelivery, routeText, type DeliveryFacts } from "./delivery-log.ts";

export const DRY_RUN_ROUTING_KEY = "(dry-run)";
export const OUTBOX_FILE_NAME = "outbox.jsonl";

export interface OutboxOptions {
  /** The JSON-lines file events are appended to (created on first use). */
  path: string;
  print?: (line: string) => void;
  now?: () => Date;
}

/** Appends one event to the outbox and prints its line (given the outcome's words); every kind of event goes this way. */
function outboxWriter(options: OutboxOptions) {
  const print = options.print ?? ((line: string) => console.log(line));
  const now = options.now ?? (() => new Date());
  return async (event: object, line: (result: string, at: Date) => string): Promise<DeliveryOutcome> => {
    try {
      // The redaction rule applies to the outbox too: a credential in a summary or detail is not written.
      await appendFile(options.path, `${redactedJson(event)}\n`);
    } catch (error) {
      // Like PagerDuty being unreachable: the router keeps the message and tries again.
      return { outcome: "retry_later", reason: `outbox ${options.path} not writable: ${(error as Error).message}` };
    }
    print(line(`dry run, not sent (written to ${basename(options.path)})`, now()));
    return { outcome: "accepted" };
  };
}

export function createOutboxDeliver(options: OutboxOptions): Deliver {
  const write = outboxWriter(options);
  return (alert, delivery: DeliveryFacts) =>
    write(toPagerDutyEvent({ ...alert, severity: delivery.severity }, delivery.action, DRY_RUN_ROUTING_KEY), (result, at) =>
      describeDelivery(alert, delivery, result, at),
    );
}

/** Change events (from `POST /v2/change/enqueue`) in the dry run: the same outbox, the same kind of line. */
export function createOutboxChangeSender(options: OutboxOptions): SendChange {
  const write = outboxWriter(options);
  return (event, delivery) =>
    write(
      { routing_key: DRY_RUN_ROUTING_KEY, ...event },
      (result, at) => `${at.toISOString().slice(11, 19)}  CHANGE   ${event.payload.summary}  [route ${routeText(delivery)}]  → ${result}`,
    );
}

/** Acknowledges (from `POST /v2/enqueue`) in the dry run: the same outbox, the same kind of line. */
export function createOutboxAcknowledgeSender(options: OutboxOptions): SendAcknowledge {
  const write = outboxWriter(options);
  return (dedupKey, delivery) =>
    write(
      { routing_key: DRY_RUN_ROUTING_KEY, event_action: "acknowledge", dedup_key: dedupKey },
      (result, at) => `${at.toISOString().slice(11, 19)}  ACK      [dedup ${dedupKey}, route ${routeText(delivery)}]  → ${result}`,
    );
}
