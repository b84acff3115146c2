/**
 * Puts one message of the Events API v2 ingest (a change event or an acknowledge, see
 * queue-message.ts) on the alerts queue, validated first (like alerts), with a few retries on
 * throttling or a failed call: such an event is answered 202 only once it is on the queue.
 * Sending and retrying are the alert publisher's (lib/publish/sqs-publisher.ts), as a batch of one.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { PublishError, createSqsEntrySender } from "../../publish/sqs-publisher.ts";
import { describeKind, parseQueueMessage, type QueueMessage } from "./queue-message.ts";

export interface MessagePublisher {
  publish(message: QueueMessage): Promise<void>;
}

export interface SqsMessagePublisherOptions {
  sqs: Pick<SQSClient, "send">;
  queueUrl: string;
  /** Attempts, the first included. Default 4. */
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export function createSqsMessagePublisher(options: SqsMessagePublisherOptions): MessagePublisher {
  const maxAttempts = options.maxAttempts ?? 4;
  const send = createSqsEntrySender({ ...options, maxAttempts });
  return {
    async publish(message) {
      const entry = { body: JSON.stringify(parseQueueMessage(message)), attributes: { source: message.source, kind: message.kind } };
      try {
        await send([entry]);
      } catch (error) {
        const reason = error instanceof PublishError ? error.reason : (error as Error).message;
        throw new Error(`${describeKind(message.kind)} ${message.id} could not be put on the queue after ${maxAttempts} attempts: ${reason}`, { cause: error });
      }
    },
  };
}
