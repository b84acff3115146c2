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
  constructor(failedCount: number, total: number, lastReason: string) {
    super(`${failedCount} of ${total} alerts could not be put on the queue after retries: ${lastReason}`);
    this.name = "PublishError";
    this.failedCount = failedCount;
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

export function createSqsPublisher(options: SqsPublisherOptions): AlertPublisher {
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

  return {
    async publish(alerts) {
      // Validate on the way in: a contract violation is a bug here, not something to put on the queue.
      let pending: PendingEntry[] = alerts.map((alert, index) => {
        const body = JSON.stringify(parseAlert(alert));
        return {
          entry: {
            Id: String(index),
            MessageBody: body,
            MessageAttributes: { source: { DataType: "String", StringValue: alert.source } },
          },
          bytes: Buffer.byteLength(body, "utf8") + alert.source.length + 16,
        };
      });
      let lastReason = "";
      for (let attempt = 1; pending.length > 0; attempt += 1) {
        const results = await Promise.all(planBatches(pending).map(sendBatch));
        pending = results.flatMap((result) => result.failed);
        lastReason = results.find((result) => result.reason)?.reason ?? lastReason;
        if (pending.length === 0) return;
        if (attempt >= maxAttempts) throw new PublishError(pending.length, alerts.length, lastReason);
        // Full jitter keeps many concurrent webhook calls from retrying in lockstep.
        await sleep(random() * baseDelayMs * 2 ** (attempt - 1));
      }
    },
  };
}
