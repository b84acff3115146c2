/**
 * Puts one message of the Events API v2 ingest (a change event or an acknowledge, see
 * lib/messages/queue-message.ts) on the alerts queue, validated first (like alerts), with a few retries on
 * throttling or a failed call: such an event is answered 202 only once it is on the queue.
 * Sending and retrying are the alert publisher's (lib/publish/sqs-publisher.ts), as a batch of one.
 */
import { PublishError, createSqsEntrySender, type SqsPublisherOptions } from "../../publish/sqs-publisher.ts";
import { describeKind, parseQueueMessage, type QueueMessage } from "../../messages/queue-message.ts";

export interface MessagePublisher {
  publish(message: QueueMessage): Promise<void>;
}

/** The alert publisher's options; `maxAttempts` defaults to 4 here. */
export type SqsMessagePublisherOptions = SqsPublisherOptions;

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
        throw new Error(
          `${describeKind(message.kind)} ${message.id} could not be put on the queue after ${maxAttempts} attempts: ${reason}`,
          { cause: error },
        );
      }
    },
  };
}
