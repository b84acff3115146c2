/**
 * The messages the Events API v2 ingest puts on the alerts queue beside normalized alerts, told
 * apart by `kind`: change events (change-message.ts) and acknowledges (acknowledge-message.ts).
 * The one place that knows every kind: the publisher validates with it before sending and the
 * router reads every queue body with readQueueBody, so both sides hold a message to the same schema.
 */
import { AlertContractError, parseAlert, type NormalizedAlert } from "../alert/schema.ts";
import { CHANGE_MESSAGE_KIND, CHANGE_MESSAGE_SCHEMA_VERSION, changeMessageSchema, type ChangeMessage } from "./change-message.ts";
import {
  ACKNOWLEDGE_MESSAGE_KIND,
  ACKNOWLEDGE_MESSAGE_SCHEMA_VERSION,
  acknowledgeMessageSchema,
  type AcknowledgeMessage,
} from "./acknowledge-message.ts";

export type QueueMessage = ChangeMessage | AcknowledgeMessage;
export type QueueMessageKind = QueueMessage["kind"];

const KINDS = {
  [CHANGE_MESSAGE_KIND]: { schema: changeMessageSchema, version: CHANGE_MESSAGE_SCHEMA_VERSION, what: "change event" },
  [ACKNOWLEDGE_MESSAGE_KIND]: { schema: acknowledgeMessageSchema, version: ACKNOWLEDGE_MESSAGE_SCHEMA_VERSION, what: "acknowledge" },
} as const;

/** The kind a queue body claims to be (then it must parse as one, or it is malformed); undefined for anything else, e.g. an alert. */
export function queueMessageKind(body: unknown): QueueMessageKind | undefined {
  const kind = typeof body === "object" && body !== null ? (body as { kind?: unknown }).kind : undefined;
  return typeof kind === "string" && Object.hasOwn(KINDS, kind) ? (kind as QueueMessageKind) : undefined;
}

/** What a message of this kind is, in words, for logs and errors: "change event", "acknowledge". */
export const describeKind = (kind: QueueMessageKind): string => KINDS[kind].what;

export class QueueMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueueMessageError";
  }
}

/** Parses a message of any kind above, or throws QueueMessageError naming every failing path. */
export function parseQueueMessage(value: unknown): QueueMessage {
  const kind = queueMessageKind(value);
  if (kind === undefined) throw new QueueMessageError(`not a queue message: kind must be one of ${Object.keys(KINDS).join(", ")}`);
  const { schema, version, what } = KINDS[kind];
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`);
  throw new QueueMessageError(`${what} message does not match schema v${version}: ${problems.join("; ")}`);
}

/**
 * Reads one queue body as the router receives it: a normalized alert, or a message of a kind
 * above. A body that is neither (not JSON, or failing its schema) comes back as the problem, in
 * words for the DLQ; any other error is thrown.
 */
export function readQueueBody(text: string): { alert: NormalizedAlert } | { message: QueueMessage } | { problem: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { problem: "message body is not JSON" };
  }
  try {
    return queueMessageKind(body) ? { message: parseQueueMessage(body) } : { alert: parseAlert(body) };
  } catch (error) {
    if (error instanceof AlertContractError || error instanceof QueueMessageError) return { problem: error.message };
    throw error;
  }
}
