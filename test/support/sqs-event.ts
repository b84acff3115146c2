/** Builds the SQS event Lambda's event source mapping hands the router. */
import type { SQSEvent, SQSRecord } from "aws-lambda";

export function sqsRecord(body: string, options: { messageId?: string; receiveCount?: number } = {}): SQSRecord {
  return {
    messageId: options.messageId ?? `m-${Math.random().toString(36).slice(2)}`,
    receiptHandle: "receipt",
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: "1764180000000",
      SenderId: "local",
      ApproximateFirstReceiveTimestamp: "1764180000000",
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
