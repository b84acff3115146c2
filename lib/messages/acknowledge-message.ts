/**
 * The queue message for a PagerDuty `acknowledge` (`POST /v2/enqueue` with event_action
 * acknowledge and a dedup_key): the third kind of message on the alerts queue, beside the
 * normalized alert and the change message. It carries only the dedup key (what PagerDuty reads of
 * an acknowledge), never the sender's routing_key. Validated when published and again in the
 * router (lib/messages/queue-message.ts).
 *
 * The normalized contract knows firing and resolved only, so an acknowledge changes no state: the
 * router passes it on to where the problem's trigger went, when PagerDuty may have an incident
 * for that key on its own (lib/router/acknowledge.ts).
 */
import * as z from "zod/mini";
import { LIMITS } from "../alert/limits.ts";
import { changeMessageSchema } from "./change-message.ts";

export const ACKNOWLEDGE_MESSAGE_KIND = "pagerduty-acknowledge" as const;
export const ACKNOWLEDGE_MESSAGE_SCHEMA_VERSION = 1 as const;

/** The fields every queue message of the Events API v2 ingest has, as change messages define them. */
const { id, source, receivedAt } = changeMessageSchema.shape;

export const acknowledgeMessageSchema = z.object({
  kind: z.literal(ACKNOWLEDGE_MESSAGE_KIND),
  schema: z.literal(ACKNOWLEDGE_MESSAGE_SCHEMA_VERSION),
  /** Unique per accepted request, for logs and the DLQ. */
  id,
  /** The ingest's name, e.g. `events-v2`. */
  source,
  receivedAt,
  /** The problem to acknowledge: the dedup_key as the sender sent it (the key its trigger opened). */
  dedupKey: z.string().check(z.minLength(1), z.maxLength(LIMITS.dedupKeyChars)),
});

export type AcknowledgeMessage = z.infer<typeof acknowledgeMessageSchema>;
