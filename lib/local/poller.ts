/**
 * Feeds the router the way Lambda's SQS event source does: receive batches of up to 10, hand
 * them to the handler as an SQSEvent, delete what succeeded, and leave what the partial batch
 * response reports failed (or the whole batch, when the handler throws) for the visibility
 * timeout to bring back — so redelivery, ApproximateReceiveCount and the redrive to the DLQ
 * after maxReceiveCount are the queue's doing, as in AWS.
 *
 * Like the event source it scales: one poller while the queue is idle, one more for every
 * receive that found messages, up to `maxPollers`; a poller beyond the first stops when its
 * receive comes back empty. Each poller has its own handler, as each Lambda instance does
 * (Powertools' batch processor keeps per-invocation state on the instance).
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from "aws-lambda";
import { lambdaContext } from "./lambda-context.ts";

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface PollerOptions {
  sqs: Pick<SQSClient, "send">;
  queueUrl: string;
  queueArn: string;
  region: string;
  /** Makes one handler per concurrent poller, as Lambda makes one instance per concurrent batch. */
  createHandler: () => SqsHandler;
  /** The router function's timeout: the context's remaining time counts down from it. */
  routerTimeoutMs: number;
  functionName?: string;
  batchSize?: number;
  waitTimeSeconds?: number;
  maxPollers?: number;
  /** Pause after a failed receive or delete, so a stopped emulator is not hammered. */
  errorBackoffMs?: number;
  onError?: (error: unknown, step: "receive" | "handler" | "delete") => void;
  /** Messages the router finished with and the queue deleted (e.g. to mark them done in a journal). */
  onDeleted?: (records: readonly SQSRecord[]) => void;
}

export interface PollerStatus {
  running: boolean;
  pollers: number;
  batches: number;
  received: number;
  deleted: number;
  /** Messages left for redelivery: reported in batchItemFailures or in a batch whose handler threw. */
  failed: number;
  lastError?: string;
}

export interface Poller {
  status(): PollerStatus;
  /** Stops receiving, lets batches in progress finish and their deletes go out. */
  stop(): Promise<void>;
}

export function startPoller(options: PollerOptions): Poller {
  const batchSize = options.batchSize ?? 10;
  const waitTimeSeconds = options.waitTimeSeconds ?? 0;
  const maxPollers = options.maxPollers ?? 5;
  const errorBackoffMs = options.errorBackoffMs ?? 1_000;
  const functionName = options.functionName ?? "alert-relay-router-local";
  const onError = options.onError ?? (() => {});
  const stopping = new AbortController();
  const idleHandlers: SqsHandler[] = [];
  const pollers = new Set<Promise<void>>();
  const counts = { batches: 0, received: 0, deleted: 0, failed: 0 };
  let lastError: string | undefined;

  function report(error: unknown, step: "receive" | "handler" | "delete"): void {
    lastError = `${step}: ${(error as Error)?.message ?? String(error)}`;
    onError(error, step);
  }

  /** Ends early when the poller stops. */
  const pause = (ms: number) => sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);

  async function receive(): Promise<Message[] | undefined> {
    try {
      const { Messages = [] } = await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: batchSize,
          WaitTimeSeconds: waitTimeSeconds,
          // Both spellings: SQS reads the newer one, local-aws-sqs only the older.
          AttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
        { abortSignal: stopping.signal },
      );
      return Messages;
    } catch (error) {
      if (stopping.signal.aborted) return undefined;
      report(error, "receive");
      await pause(errorBackoffMs);
      return undefined;
    }
  }

  async function handleBatch(handler: SqsHandler, messages: Message[]): Promise<void> {
    const records = uniqueByMessageId(messages).map((message) => toRecord(message, options));
    counts.batches += 1;
    counts.received += records.length;
    let failedIds: Set<string>;
    try {
      const response = await handler({ Records: records }, lambdaContext(functionName, options.routerTimeoutMs));
      failedIds = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      // A handler that throws fails the whole batch in Lambda: every message comes back.
      report(error, "handler");
      counts.failed += records.length;
      return;
    }
    counts.failed += failedIds.size;
    const done = records.filter((record) => !failedIds.has(record.messageId));
    if (done.length > 0) await deleteMessages(done);
  }

  async function deleteMessages(records: SQSRecord[]): Promise<void> {
    try {
      const { Failed = [] } = await options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: records.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
      counts.deleted += records.length - Failed.length;
      const failedIds = new Set(Failed.map((failure) => failure.Id));
      options.onDeleted?.(records.filter((_record, index) => !failedIds.has(String(index))));
      // An undeleted message is redelivered and routed again, which the router's state makes harmless.
      if (Failed.length > 0) report(new Error(`${Failed.length} messages not deleted: ${Failed[0]?.Message ?? Failed[0]?.Code}`), "delete");
    } catch (error) {
      report(error, "delete");
    }
  }

  async function poll(first: boolean): Promise<void> {
    const handler = idleHandlers.pop() ?? options.createHandler();
    try {
      while (!stopping.signal.aborted) {
        const messages = await receive();
        if (messages === undefined) continue;
        if (messages.length === 0) {
          if (first) continue;
          return;
        }
        if (pollers.size < maxPollers) spawn(false);
        await handleBatch(handler, messages);
      }
    } finally {
      idleHandlers.push(handler);
    }
  }

  function spawn(first: boolean): void {
    const running = poll(first).catch((error: unknown) => report(error, "handler"));
    pollers.add(running);
    void running.finally(() => pollers.delete(running));
  }

  spawn(true);

  return {
    status: () => ({ running: !stopping.signal.aborted, pollers: pollers.size, ...counts, ...(lastError ? { lastError } : {}) }),
    async stop() {
      stopping.abort();
      while (pollers.size > 0) await Promise.all([...pollers]);
    },
  };
}

/**
 * local-aws-sqs can put one message in a batch twice when its visibility ends during a receive;
 * SQS never does within one batch, and the router must not see it as two.
 */
function uniqueByMessageId(messages: Message[]): Message[] {
  const latest = new Map<string, Message>();
  for (const message of messages) latest.set(message.MessageId ?? "", message);
  return [...latest.values()];
}

function toRecord(message: Message, options: Pick<PollerOptions, "queueArn" | "region">): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ...attributes,
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    } as SQSRecordAttributes,
    messageAttributes: toLambdaAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? "",
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: options.queueArn,
    awsRegion: options.region,
  };
}

/** The event source's shape: lower-camel names, list fields always present, binary as base64. */
function toLambdaAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const converted: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    converted[name] = {
      dataType: value.DataType ?? "String",
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((bytes) => Buffer.from(bytes).toString("base64")),
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString("base64") } : {}),
    };
  }
  return converted;
}
