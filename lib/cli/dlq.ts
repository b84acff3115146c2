/**
 * Reading the dead-letter queue without consuming it. SQS has no "peek": a message is read by
 * receiving it, which hides it for a visibility timeout. The listing hides what it read for at
 * most LIST_VISIBILITY_SECONDS and makes it visible again as soon as it is done.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { DEAD_LETTER_ATTRIBUTES } from "../router/dead-letter.ts";

/** Long enough that one listing never receives a message twice, short enough to heal by itself if the CLI dies. */
export const LIST_VISIBILITY_SECONDS = 30;
/** SQS's batch limit for receive, send, delete and visibility changes. */
export const SQS_BATCH = 10;
/** Short polls that bring nothing new before deciding the queue is read: short polling samples only some SQS hosts. */
const IDLE_RECEIVES = 3;

export interface DeadLetter {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** Why the router gave up; absent when SQS moved the message itself (max receives reached). */
  reason?: string;
  originalMessageId?: string;
  receiveCount?: number;
  failedAt?: string;
  /** The alert's identity when the body is an alert, however broken otherwise. */
  alert?: { dedupKey?: string; status?: string; source?: string };
  /** Message attributes other than the dead-letter ones: what the alerts queue had, for a redrive. */
  carried: Record<string, MessageAttributeValue>;
}

export async function approximateCount(sqs: SQSClient, queueUrl: string): Promise<number | undefined> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
  );
  const count = Number(Attributes?.ApproximateNumberOfMessages);
  return Number.isFinite(count) ? count : undefined;
}

/**
 * Receives up to `max` distinct messages, each hidden for `visibilitySeconds`. Call release()
 * (or delete them) afterwards. A message received twice keeps its latest receipt handle, the
 * only one SQS still honours.
 */
export async function receiveDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
  options: { max: number; visibilitySeconds: number },
): Promise<DeadLetter[]> {
  const expected = (await approximateCount(sqs, queueUrl)) ?? 0;
  const seen = new Map<string, DeadLetter>();
  let idle = 0;
  while (seen.size < options.max && idle < IDLE_RECEIVES) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(SQS_BATCH, options.max - seen.size),
        VisibilityTimeout: options.visibilitySeconds,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    let fresh = 0;
    for (const message of Messages) {
      if (!message.MessageId || !message.ReceiptHandle) continue;
      if (!seen.has(message.MessageId)) fresh += 1;
      seen.set(message.MessageId, readDeadLetter(message));
    }
    idle = fresh === 0 ? idle + 1 : 0;
    if (fresh === 0 && seen.size >= expected) break;
  }
  return [...seen.values()];
}

function readDeadLetter(message: Message): DeadLetter {
  const attributes = message.MessageAttributes ?? {};
  const text = (name: string) => attributes[name]?.StringValue;
  const deadLetterNames = new Set<string>(Object.values(DEAD_LETTER_ATTRIBUTES));
  const carried = Object.fromEntries(
    Object.entries(attributes)
      .filter(([name]) => !deadLetterNames.has(name))
      // Only the fields SendMessage accepts: received values may carry empty list fields it refuses.
      .map(([name, value]) => [
        name,
        {
          DataType: value.DataType,
          ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : { BinaryValue: value.BinaryValue }),
        },
      ]),
  ) as Record<string, MessageAttributeValue>;
  const receiveCount = Number(text(DEAD_LETTER_ATTRIBUTES.receiveCount));
  const body = message.Body ?? "";
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body,
    reason: text(DEAD_LETTER_ATTRIBUTES.reason),
    originalMessageId: text(DEAD_LETTER_ATTRIBUTES.originalMessageId),
    ...(Number.isFinite(receiveCount) && text(DEAD_LETTER_ATTRIBUTES.receiveCount) !== undefined ? { receiveCount } : {}),
    failedAt: text(DEAD_LETTER_ATTRIBUTES.failedAt),
    alert: alertIdentity(body),
    carried,
  };
}

function alertIdentity(body: string): DeadLetter["alert"] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { dedupKey, status, source } = parsed as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  if (text(dedupKey) === undefined && text(status) === undefined) return undefined;
  return { dedupKey: text(dedupKey), status: text(status), source: text(source) };
}

/** `prometheus:abc firing`, or why there is no alert to name. */
export function alertLine(letter: DeadLetter): string {
  if (!letter.alert) return letter.body.trim().startsWith("{") ? "(not an alert)" : `(not JSON, ${Buffer.byteLength(letter.body)} bytes)`;
  return `${letter.alert.dedupKey ?? "(no dedupKey)"} ${letter.alert.status ?? "(no status)"}`;
}

export const NO_REASON = "(none recorded: SQS moved it after the queue's max receives, e.g. the router timed out or crashed)";

/** Makes received messages visible again at once, instead of when their visibility timeout runs out. */
export async function release(sqs: SQSClient, queueUrl: string, letters: readonly DeadLetter[]): Promise<void> {
  for (let start = 0; start < letters.length; start += SQS_BATCH) {
    const batch = letters.slice(start, start + SQS_BATCH);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((letter, index) => ({ Id: `m${index}`, ReceiptHandle: letter.receiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
}
