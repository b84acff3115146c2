/**
 * Puts a message the router gives up on into the DLQ itself, with the reason attached, so that
 * `dlq list` can say why and `dlq redrive` can replay it once the cause is fixed. SQS's own
 * redrive (after max receives) remains the backstop when even this send fails.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { loadSqs } from "../platform/lazy-sqs.ts";
import { redactText } from "../platform/redact.ts";

export interface DeadLetterSink {
  send(body: string, reason: string, meta: { messageId: string; receiveCount: number }): Promise<void>;
}

export const DEAD_LETTER_ATTRIBUTES = {
  reason: "reason",
  originalMessageId: "originalMessageId",
  receiveCount: "receiveCount",
  failedAt: "failedAt",
} as const;

export function createSqsDeadLetterSink(
  sqs: Pick<SQSClient, "send">,
  queueUrl: string,
  now: () => Date = () => new Date(),
): DeadLetterSink {
  const text = (value: string) => ({ DataType: "String", StringValue: value });
  return {
    async send(body, reason, meta) {
      const { SendMessageCommand } = await loadSqs();
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body === "" ? "(empty message)" : body,
          MessageAttributes: {
            // The reason passes the redaction rule: an error echoing a credential does not park it in the DLQ.
            [DEAD_LETTER_ATTRIBUTES.reason]: text(redactText(reason).slice(0, 1000)),
            [DEAD_LETTER_ATTRIBUTES.originalMessageId]: text(meta.messageId),
            [DEAD_LETTER_ATTRIBUTES.receiveCount]: { DataType: "Number", StringValue: String(meta.receiveCount) },
            [DEAD_LETTER_ATTRIBUTES.failedAt]: text(now().toISOString()),
          },
        }),
      );
    },
  };
}
