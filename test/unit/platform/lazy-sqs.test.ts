import { afterAll, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { ChangeMessageVisibilityCommand, SQSClient } from "@aws-sdk/client-sqs";
import { onDemandSqsClient } from "../../../lib/platform/lazy-sqs.ts";
import { createSqsRedeliverIn } from "../../../lib/router/redelivery.ts";

const sqsMock = mockClient(SQSClient);
// The unit lane shares one module graph: give SQSClient back to the files after this one.
afterAll(() => sqsMock.restore());

describe("the SQS client imported on first use", () => {
  it("sends the router's commands through one client built at the first send", async () => {
    sqsMock.reset();
    sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
    const redeliverIn = createSqsRedeliverIn(onDemandSqsClient(), "http://sqs.local/123456789012/alerts");
    await redeliverIn("receipt-1", 30);
    await redeliverIn("receipt-2", 5);
    const calls = sqsMock.commandCalls(ChangeMessageVisibilityCommand);
    expect(calls.map((call) => call.args[0].input)).toEqual([
      { QueueUrl: "http://sqs.local/123456789012/alerts", ReceiptHandle: "receipt-1", VisibilityTimeout: 30 },
      { QueueUrl: "http://sqs.local/123456789012/alerts", ReceiptHandle: "receipt-2", VisibilityTimeout: 5 },
    ]);
    expect(calls[0]!.thisValue).toBeInstanceOf(SQSClient);
    expect(calls[1]!.thisValue).toBe(calls[0]!.thisValue);
  });
});
