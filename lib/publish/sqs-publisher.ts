/**
 * Puts normalized alerts on the alerts queue. A request is answered with success only after
 * every one of its alerts is on the queue, so a sender's retry (Alertmanager and Datadog retry
 * on 5xx) is the recovery path for anything that could not be published.
 */
import { SendMessageBatchCommand, type SQSClient, type SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import { parseAlert, type NormalizedAlert } from "../alert/schema.ts";

/** SQS allows 10 entries per batch; 256 KiB is the batch byte limit every SQS endpoint has accepted. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 262_144;

export interface AlertPublisher {
  publish(alerts: readonly NormalizedAlert[]): Promise<void>;
}

export class PublishError extends Error {
  readonly failedCount: number;
  /** Why the last attempt failed (SQS's error or the failed entry's code and message). */
  readonly reason: string;
  constructor(failedCount: number, total: number, lastReason: string) {
    super(`${failedCount} of ${total} alerts could not be put on the queue after retries: ${lastReason}`);
    this.name = "PublishError";
    this.failedCount = failedCount;
    this.reason = lastReason;
  }
}

export interface SqsPublisherOptions {
  sqs: Pick<SQSClient, "send">;
  queueUrl: string;
  /** Attempts per entry, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** A message ready for the queue: its body and its String message attributes. */
export interface QueueEntry {
  body: string;
  attributes: Readonly<Record<string, string>>;
}

interface PendingEntry {
  entry: SendMessageBatchRequestEntry;
  bytes: number;
}

/** Groups entries into batches within both SQS limits, preserving order. */
export function planBatches<T extends { bytes: number }>(entries: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const entry of entries) {
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && currentBytes + entry.bytes > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += entry.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Puts entries on the queue in batches within both SQS limits, retrying only what failed with
 * full-jitter backoff until every entry is on the queue or `maxAttempts` is spent; then throws
 * PublishError naming how many did not make it. Used by the alert publisher below and by the
 * Events API ingest's message publisher (lib/ingest/pagerduty-events/message-publisher.ts).
 */
export function createSqsEntrySender(options: SqsPublisherOptions): (entries: readonly QueueEntry[]) => Promise<void> {
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  async function sendBatch(batch: readonly PendingEntry[]): Promise<{ failed: PendingEntry[]; reason: string }> {
    try {
      const result = await options.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: batch.map((pending) => pending.entry) }),
      );
      const failedIds = new Map((result.Failed ?? []).map((failure) => [failure.Id, failure]));
      const failed = batch.filter((pending) => failedIds.has(pending.entry.Id));
      const first = result.Failed?.[0];
      return { failed, reason: first ? `${first.Code ?? "error"}: ${first.Message ?? "no message"}` : "" };
    } catch (error) {
      return { failed: [...batch], reason: error instanceof Error ? error.message : String(error) };
    }
  }

  return async (entries) => {
    let pending: PendingEntry[] = entries.map(({ body, attributes }, index) => ({
      entry: {
        Id: String(index),
        MessageBody: body,
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [name, { DataType: "String", StringValue: value }]),
        ),
      },
      // Each attribute counts its value plus a margin for its name and type.
      bytes: Buffer.byteLength(body, "utf8") + Object.values(attributes).reduce((sum, value) => sum + value.length + 16, 0),
    }));
    let lastReason = "";
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const results = await Promise.all(planBatches(pending).map(sendBatch));
      pending = results.flatMap((result) => result.failed);
      lastReason = results.find((result) => result.reason)?.reason ?? lastReason;
      if (pending.length === 0) return;
      if (attempt >= maxAttempts) throw new PublishError(pending.length, entries.length, lastReason);
      // Full jitter keeps many concurrent webhook calls from retrying in lockstep.
      await sleep(random() * baseDelayMs * 2 ** (attempt - 1));
    }
  };
}

export function createSqsPublisher(options: SqsPublisherOptions): AlertPublisher {
  const send = createSqsEntrySender(options);
  return {
    async publish(alerts) {
      // Validate on the way in: a contract violation is a bug here, not something to put on the queue.
      const entries = alerts.map((alert) => ({ body: JSON.stringify(parseAlert(alert)), attributes: { source: alert.source } }));
      await send(entries);
    },
  };
}
