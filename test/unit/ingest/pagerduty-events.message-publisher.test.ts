/**
 * The Events API ingest's message publisher: one change event or acknowledge, validated, sent as a
 * batch of one through the alert publisher's retrying sender (lib/publish/sqs-publisher.ts).
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { SQSClient, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { createSqsMessagePublisher } from "../../../lib/ingest/pagerduty-events/message-publisher.ts";
import type { AcknowledgeMessage } from "../../../lib/messages/acknowledge-message.ts";

const sqsMock = mockClient(SQSClient);
// The unit lane shares one module graph: give SQSClient back to the files after this one.
afterAll(() => sqsMock.restore());
const queueUrl = "http://sqs.local/123456789012/alerts";
const message: AcknowledgeMessage = {
  kind: "pagerduty-acknowledge",
  schema: 1,
  id: "events-v2-acknowledge:1",
  source: "events-v2",
  dedupKey: "db-1/disk",
  receivedAt: "2026-11-26T18:04:00.000Z",
};

beforeEach(() => sqsMock.reset());

describe("createSqsMessagePublisher", () => {
  it("puts the message on the queue with its source and kind as attributes", async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [] });
    await createSqsMessagePublisher({ sqs: new SQSClient({}), queueUrl }).publish(message);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(1);
    const [entry, ...rest] = calls[0]!.args[0].input.Entries!;
    expect(rest).toEqual([]);
    expect(calls[0]!.args[0].input.QueueUrl).toBe(queueUrl);
    expect(JSON.parse(entry!.MessageBody!)).toEqual(message);
    expect(entry!.MessageAttributes).toEqual({
      source: { DataType: "String", StringValue: "events-v2" },
      kind: { DataType: "String", StringValue: "pagerduty-acknowledge" },
    });
  });

  it("retries with full-jitter backoff, then succeeds", async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .rejectsOnce(new Error("socket hang up"))
      .resolvesOnce({ Failed: [{ Id: "0", Code: "InternalError", SenderFault: false }] })
      .resolves({ Failed: [] });
    const delays: number[] = [];
    await createSqsMessagePublisher({
      sqs: new SQSClient({}),
      queueUrl,
      sleep: async (ms) => void delays.push(ms),
      random: () => 1,
    }).publish(message);
    expect(delays).toEqual([100, 200]);
  });

  it("gives up after 4 attempts by default, naming the message and the last reason", async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error("ServiceUnavailable"));
    const error = await createSqsMessagePublisher({ sqs: new SQSClient({}), queueUrl, sleep: async () => {} })
      .publish(message)
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      "acknowledge events-v2-acknowledge:1 could not be put on the queue after 4 attempts: ServiceUnavailable",
    );
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(4);
  });

  it("refuses a message that breaks its schema, before sending", async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [] });
    await expect(createSqsMessagePublisher({ sqs: new SQSClient({}), queueUrl }).publish({ ...message, dedupKey: "" })).rejects.toThrow(
      /dedupKey/,
    );
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});
