/**
 * Puts one message of the Events API v2 ingest (a change event or an acknowledge, see
 * queue-message.ts) on the alerts queue, validated first (like alerts), with a few retries on
 * throttling or a failed call: such an event is answered 202 only once it is on the queue.
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
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
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  return {
    async publish(message) {
      const command = new SendMessageCommand({
        QueueUrl: options.queueUrl,
        MessageBody: JSON.stringify(parseQueueMessage(message)),
        MessageAttributes: { source: { DataType: "String", StringValue: message.source }, kind: { DataType: "String", StringValue: message.kind } },
      });
      for (let attempt = 1; ; attempt += 1) {
        try {
          await options.sqs.send(command);
          return;
        } catch (error) {
          if (attempt >= maxAttempts) {
            throw new Error(`${describeKind(message.kind)} ${message.id} could not be put on the queue after ${attempt} attempts: ${(error as Error).message}`, { cause: error });
          }
        }
        await sleep(random() * baseDelayMs * 2 ** (attempt - 1));
      }
    },
  };
}
