/**
 * The dry-run PagerDuty: with no routing key configured the local stack still runs every
 * decision, and each event that would have been sent is printed and appended to an outbox file
 * as one JSON line — the exact event, with the routing key replaced, so it can be read, diffed
 * or replayed against PagerDuty with a real key.
 */
import { appendFile } from "node:fs/promises";
import { basename } from "node:path";
import { toPagerDutyEvent } from "../pagerduty/events.ts";
import type { SendChange } from "../router/change-events.ts";
import type { Deliver } from "../router/router.ts";
import { describeDelivery, type DeliveryFacts } from "./delivery-log.ts";

export const DRY_RUN_ROUTING_KEY = "(dry-run)";
export const OUTBOX_FILE_NAME = "outbox.jsonl";

export interface OutboxOptions {
  /** The JSON-lines file events are appended to (created on first use). */
  path: string;
  print?: (line: string) => void;
  now?: () => Date;
}

export function createOutboxDeliver(options: OutboxOptions): Deliver {
  const print = options.print ?? ((line: string) => console.log(line));
  const now = options.now ?? (() => new Date());
  return async (alert, delivery: DeliveryFacts) => {
    const event = toPagerDutyEvent({ ...alert, severity: delivery.severity }, delivery.action, DRY_RUN_ROUTING_KEY);
    try {
      await appendFile(options.path, `${JSON.stringify(event)}\n`);
    } catch (error) {
      // Like PagerDuty being unreachable: the router keeps the message and tries again.
      return { outcome: "retry_later", reason: `outbox ${options.path} not writable: ${(error as Error).message}` };
    }
    print(describeDelivery(alert, delivery, `dry run, not sent (written to ${basename(options.path)})`, now()));
    return { outcome: "accepted" };
  };
}

/** Change events (from `POST /v2/change/enqueue`) in the dry run: the same outbox, the same kind of line. */
export function createOutboxChangeSender(options: OutboxOptions): SendChange {
  const print = options.print ?? ((line: string) => console.log(line));
  const now = options.now ?? (() => new Date());
  return async (event, delivery) => {
    try {
      await appendFile(options.path, `${JSON.stringify({ routing_key: DRY_RUN_ROUTING_KEY, ...event })}\n`);
    } catch (error) {
      return { outcome: "retry_later", reason: `outbox ${options.path} not writable: ${(error as Error).message}` };
    }
    const route = delivery.route === delivery.routingKeyRef ? delivery.routingKeyRef : `${delivery.route} (key ${delivery.routingKeyRef})`;
    print(`${now().toISOString().slice(11, 19)}  CHANGE   ${event.payload.summary}  [route ${route}]  → dry run, not sent (written to ${basename(options.path)})`);
    return { outcome: "accepted" };
  };
}
