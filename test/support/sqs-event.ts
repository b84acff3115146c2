/** Builds the SQS event Lambda's event source mapping hands the router. */
import type { SQSEvent, SQSRecord } from "aws-lambda";

/** `sentAt`: when the message was first sent (epoch ms), default now: the router gives up on a message by its age. */
export function sqsRecord(
  body: string,
  options: { messageId?: string; receiveCount?: number; sentAt?: number; receiptHandle?: string } = {},
): SQSRecord {
  const sentAt = String(options.sentAt ?? Date.now());
  return {
    messageId: options.messageId ?? `m-${Math.random().toString(36).slice(2)}`,
    receiptHandle: options.receiptHandle ?? "receipt",
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: sentAt,
      SenderId: "local",
      ApproximateFirstReceiveTimestamp: sentAt,
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:alerts",
    awsRegion: "us-east-1",
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
