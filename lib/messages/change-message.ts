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
import * as z from "zod/mini";
import { LIMITS } from "../alert/limits.ts";

export const CHANGE_MESSAGE_KIND = "pagerduty-change" as const;
export const CHANGE_MESSAGE_SCHEMA_VERSION = 1 as const;

const isoTimestamp = z.iso.datetime({ offset: true });

export const changeMessageSchema = z.object({
  kind: z.literal(CHANGE_MESSAGE_KIND),
  schema: z.literal(CHANGE_MESSAGE_SCHEMA_VERSION),
  /** Unique per accepted request, for logs and the DLQ. */
  id: z.string().check(z.minLength(1), z.maxLength(LIMITS.idChars)),
  /** The ingest's name, e.g. `events-v2`: what `source` matchers in routes see. */
  source: z.string().check(z.regex(/^[a-z][a-z0-9-]{1,39}$/)),
  receivedAt: isoTimestamp,
  /** What routes match on (with `source`, and `severity` = info); the same flat map alerts carry. */
  labels: z.record(
    z.string().check(z.minLength(1), z.maxLength(LIMITS.labelKeyChars)),
    z.string().check(z.maxLength(LIMITS.labelValueChars)),
  ),
  /** The change event as PagerDuty takes it, without routing_key. */
  event: z.object({
    payload: z.object({
      summary: z.string().check(z.minLength(1), z.maxLength(LIMITS.summaryChars)),
      source: z.optional(z.string().check(z.minLength(1), z.maxLength(LIMITS.fieldChars))),
      timestamp: z.optional(isoTimestamp),
      custom_details: z.optional(z.record(z.string(), z.unknown())),
    }),
    links: z.optional(
      z
        .array(
          z.object({
            href: z.string().check(z.minLength(1), z.maxLength(LIMITS.urlChars)),
            text: z.optional(z.string().check(z.maxLength(LIMITS.linkTextChars))),
          }),
        )
        .check(z.maxLength(LIMITS.links)),
    ),
  }),
});

export type ChangeMessage = z.infer<typeof changeMessageSchema>;
