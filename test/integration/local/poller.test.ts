import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { startLocalSqs, type LocalSqs } from "../../support/local-sqs.ts";
import { waitFor } from "../../support/wait-for.ts";
import { startPoller, type Poller, type SqsHandler } from "../../../lib/local/poller.ts";

let sqs: LocalSqs;
let n = 0;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(() => sqs.close());

/** A queue with a 1 s visibility timeout and a DLQ after `maxReceiveCount` receives. */
async function queue(maxReceiveCount = 10) {
  n += 1;
  const dlq = await sqs.createQueue(`poller-dlq-${n}`);
  const main = await sqs.createQueue(`poller-${n}`, {
    VisibilityTimeout: "1",
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
  });
  return { main, dlq };
}

async function send(url: string, bodies: string[]) {
  await sqs.client.send(
    new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: bodies.map((body, i) => ({
        Id: String(i),
        MessageBody: body,
        MessageAttributes: { source: { DataType: "String", StringValue: "test" } },
      })),
    }),
  );
}

async function depth(url: string): Promise<number> {
  const { Attributes = {} } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

function poller(main: { url: string; arn: string }, handler: SqsHandler, extra: { maxPollers?: number } = {}): Poller {
  return startPoller({
    sqs: sqs.client,
    queueUrl: main.url,
    queueArn: main.arn,
    region: "us-east-1",
    routerTimeoutMs: 800,
    createHandler: () => handler,
    ...extra,
  });
}

describe("SQS poller (Lambda's event source, locally)", () => {
  it("hands Lambda-shaped batches to the handler, deletes what succeeded and lets a reported failure come back", async () => {
    const { main } = await queue();
    await send(main.url, ["ok-1", "fail", "ok-2"]);
    const events: SQSEvent[] = [];
    const remaining: number[] = [];
    const p = poller(main, async (event, context) => {
      events.push(event);
      remaining.push(context.getRemainingTimeInMillis());
      return {
        batchItemFailures: event.Records.filter((r) => r.body === "fail" && r.attributes.ApproximateReceiveCount === "1").map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
    });
    try {
      await waitFor(async () => (await depth(main.url)) === 0, 5_000, "the queue to empty");
    } finally {
      await p.stop();
    }
    const records = events.flatMap((event) => event.Records);
    expect(records.map((r) => [r.body, r.attributes.ApproximateReceiveCount]).sort()).toEqual([
      ["fail", "1"],
      ["fail", "2"],
      ["ok-1", "1"],
      ["ok-2", "1"],
    ]);
    expect(records[0]).toMatchObject({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      attributes: { SentTimestamp: expect.any(String), ApproximateFirstReceiveTimestamp: expect.any(String) },
      messageAttributes: { source: { dataType: "String", stringValue: "test", stringListValues: [], binaryListValues: [] } },
      md5OfBody: expect.any(String),
      eventSource: "aws:sqs",
      eventSourceARN: main.arn,
      awsRegion: "us-east-1",
    });
    expect(Math.max(...remaining)).toBeLessThanOrEqual(800);
    expect(p.status()).toMatchObject({ running: false, received: 4, deleted: 3, failed: 1 });
  });

  it("leaves a whole batch for redelivery when the handler throws, and the queue dead-letters it after maxReceiveCount", async () => {
    const { main, dlq } = await queue(2);
    await send(main.url, ["a", "b"]);
    const p = poller(main, async () => {
      throw new Error("router crashed");
    });
    try {
      await waitFor(async () => (await depth(dlq.url)) === 2, 8_000, "both messages in the DLQ");
    } finally {
      await p.stop();
    }
    const { Messages = [] } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 10 }));
    expect(Messages.map((m) => m.Body).sort()).toEqual(["a", "b"]);
    expect(p.status()).toMatchObject({ failed: 4, deleted: 0, lastError: "handler: router crashed" });
  });

  it("scales up to maxPollers while there is work, and stop() waits for batches in progress", async () => {
    const { main } = await queue();
    await send(
      main.url,
      Array.from({ length: 10 }, (_, i) => `m-${i}`),
    );
    await send(
      main.url,
      Array.from({ length: 10 }, (_, i) => `n-${i}`),
    );
    let concurrent = 0;
    let peak = 0;
    let finished = 0;
    const p = poller(
      main,
      async (event) => {
        concurrent += 1;
        peak = Math.max(peak, concurrent);
        await new Promise((resolve) => setTimeout(resolve, 150));
        concurrent -= 1;
        finished += event.Records.length;
        return { batchItemFailures: [] };
      },
      { maxPollers: 3 },
    );
    await waitFor(() => concurrent >= 2, 3_000, "a second concurrent batch");
    await p.stop();
    expect(concurrent).toBe(0);
    expect(peak).toBeLessThanOrEqual(3);
    expect(p.status().deleted).toBe(finished);
  });
});
