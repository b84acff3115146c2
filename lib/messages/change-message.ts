/**
 * The queue message for a PagerDuty change event (`POST /v2/change/enqueue`): the second kind of
 * message on the alerts queue, beside the normalized alert. It carries the change event as
 * PagerDuty will get it, minus the sender's routing_key (a credential, never stored), plus the
 * flat labels routes match on. Validated when published and again in the router, like alerts
 * (queue-message.ts, which knows every kind of message beside alerts).
 *
 * Change events open no incidents and have no state: the router resolves the route and sends
 * them with the PagerDuty client's sendChange (lib/router/change-events.ts).
 */
import * as z from "zod";
import { LIMITS } from "../alert/limits.ts";

export const CHANGE_MESSAGE_KIND = "pagerduty-change" as const;
export const CHANGE_MESSAGE_SCHEMA_VERSION = 1 as const;

const isoTimestamp = z.iso.datetime({ offset: true });

export const changeMessageSchema = z.object({
  kind: z.literal(CHANGE_MESSAGE_KIND),
  schema: z.literal(CHANGE_MESSAGE_SCHEMA_VERSION),
  /** Unique per accepted request, for logs and the DLQ. */
  id: z.string().min(1).max(LIMITS.idChars),
  /** The ingest's name, e.g. `events-v2`: what `source` matchers in routes see. */
  source: z.string().regex(/^[a-z][a-z0-9-]{1,39}$/),
  receivedAt: isoTimestamp,
  /** What routes match on (with `source`, and `severity` = info); the same flat map alerts carry. */
  labels: z.record(z.string().min(1).max(LIMITS.labelKeyChars), z.string().max(LIMITS.labelValueChars)),
  /** The change event as PagerDuty takes it, without routing_key. */
  event: z.object({
    payload: z.object({
      summary: z.string().min(1).max(LIMITS.summaryChars),
      source: z.string().min(1).max(LIMITS.fieldChars).optional(),
      timestamp: isoTimestamp.optional(),
      custom_details: z.record(z.string(), z.unknown()).optional(),
    }),
    links: z.array(z.object({ href: z.string().min(1).max(LIMITS.urlChars), text: z.string().max(LIMITS.linkTextChars).optional() })).max(LIMITS.links).optional(),
  }),
});

export type ChangeMessage = z.infer<typeof changeMessageSchema>;
