/** `dlq list|redrive` against local SQS, with messages dead-lettered the way the router does it. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from "@aws-sdk/client-sqs";
import { createSqsDeadLetterSink } from "../../../lib/router/dead-letter.ts";
import { alertAt } from "../../support/alerts.ts";
import { startCliHarness, type CliHarness } from "../../support/cli-harness.ts";
import { NOW, parseTable } from "../../support/cli-run.ts";

let h: CliHarness;
let dlq: string;
let alerts: string;
beforeAll(async () => {
  h = await startCliHarness();
  ({ deadLetter: dlq, alerts } = h.descriptor.queues);
});
afterAll(async () => h.close());

const ALERT = alertAt("checkout-latency", "firing", 0);
/** Dead-lettered 5 minutes before the CLI looks. */
const sink = () => createSqsDeadLetterSink(h.sqs.client, dlq, () => new Date(NOW.getTime() - 5 * 60_000));

/** Receives (and deletes) everything in a queue. */
async function drain(queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await h.sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30, MessageAttributeNames: ["All"] }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
    await Promise.all(
      Messages.map((message) => h.sqs.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }))),
    );
  }
}

async function counts(queueUrl: string): Promise<{ visible: number; hidden: number }> {
  const { Attributes = {} } = await h.sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), hidden: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

/** Three dead letters: a delivery given up on, a body that is not JSON, and one SQS moved by itself (no reason). */
async function deadLetterThree(): Promise<void> {
  await sink().send(JSON.stringify(ALERT), "gave up after 5 receives: PagerDuty answered 503", { messageId: "orig-1", receiveCount: 5 });
  await sink().send("not json", "message body is not JSON", { messageId: "orig-2", receiveCount: 1 });
  await h.sqs.client.send(
    new SendMessageCommand({
      QueueUrl: dlq,
      MessageBody: JSON.stringify(alertAt("disk-full", "resolved", 1)),
      MessageAttributes: { source: { DataType: "String", StringValue: "echo" } },
    }),
  );
}

const listed = async () => parseTable((await h.run(["dlq", "list"])).out, "MESSAGE ID");

beforeEach(async () => {
  await Promise.all([drain(dlq), drain(alerts)]);
});

describe("dlq list", () => {
  it("shows each message's reason, original id, receives, failure time and alert", async () => {
    await deadLetterThree();
    const run = await h.run(["dlq", "list"]);
    expect(run.code).toBe(0);
    const rows = parseTable(run.out, "MESSAGE ID");
    expect(rows).toHaveLength(3);
    expect(rows.find((row) => row["ORIGINAL ID"] === "orig-1")).toMatchObject({
      "FAILED AT": "2026-11-26T17:55:00Z (5m ago)",
      RECEIVES: "5",
      ALERT: "checkout-latency firing",
      REASON: "gave up after 5 receives: PagerDuty answered 503",
    });
    expect(rows.find((row) => row["ORIGINAL ID"] === "orig-2")).toMatchObject({
      ALERT: "(not JSON, 8 bytes)",
      REASON: "message body is not JSON",
    });
    expect(rows.find((row) => row["ORIGINAL ID"] === "")).toMatchObject({
      ALERT: "disk-full resolved",
      RECEIVES: "?",
      REASON: expect.stringContaining("none recorded: SQS moved it"),
    });
    expect(run.out).toContain("3 messages.");
  });

  it("leaves every message in the queue and visible again", async () => {
    await deadLetterThree();
    await h.run(["dlq", "list"]);
    expect(await counts(dlq)).toEqual({ visible: 3, hidden: 0 });
    expect(await listed()).toHaveLength(3);
  });

  it("reads at most --max messages and says there are more", async () => {
    await deadLetterThree();
    const run = await h.run(["dlq", "list", "--max", "2"]);
    expect(parseTable(run.out, "MESSAGE ID")).toHaveLength(2);
    expect(run.out).toContain("2 messages shown of about 3 (--max to read more).");
    expect((await h.run(["dlq", "list", "--max", "0"])).code).toBe(2);
  });

  it("prints every field and the body with --json", async () => {
    await sink().send(JSON.stringify(ALERT), "rejected by PagerDuty: 400", { messageId: "orig-9", receiveCount: 2 });
    const [message, ...rest] = JSON.parse((await h.run(["dlq", "list", "--json"])).out) as Record<string, unknown>[];
    expect(rest).toEqual([]);
    expect(message).toEqual({
      messageId: expect.any(String),
      originalMessageId: "orig-9",
      reason: "rejected by PagerDuty: 400",
      receiveCount: 2,
      failedAt: "2026-11-26T17:55:00.000Z",
      alert: { dedupKey: "checkout-latency", status: "firing", source: "echo" },
      body: JSON.stringify(ALERT),
    });
  });

  it("says an empty queue is empty", async () => {
    const run = await h.run(["dlq", "list"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("It is empty.");
  });
});

describe("dlq redrive", () => {
  it("moves the named message to the alerts queue, body and attributes intact, and only that one", async () => {
    await deadLetterThree();
    const target = (await listed()).find((row) => row.ALERT === "disk-full resolved")!;
    const run = await h.run(["dlq", "redrive", target["MESSAGE ID"]!]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("Moved 1 message from the dead-letter queue to the alerts queue");
    const moved = await drain(alerts);
    expect(moved).toHaveLength(1);
    expect(JSON.parse(moved[0]!.Body!)).toEqual(alertAt("disk-full", "resolved", 1));
    expect(moved[0]!.MessageAttributes).toEqual({ source: { DataType: "String", StringValue: "echo" } });
    expect((await listed()).map((row) => row["ORIGINAL ID"]).sort()).toEqual(["orig-1", "orig-2"]);
  });

  it("accepts the original message id, and drops the dead-letter attributes", async () => {
    await deadLetterThree();
    expect((await h.run(["dlq", "redrive", "orig-1"])).code).toBe(0);
    const [moved, ...rest] = await drain(alerts);
    expect(rest).toEqual([]);
    expect(moved!.Body).toBe(JSON.stringify(ALERT));
    expect(moved!.MessageAttributes ?? {}).toEqual({});
  });

  it("refuses an unknown id and moves nothing", async () => {
    await deadLetterThree();
    const run = await h.run(["dlq", "redrive", "orig-1", "no-such-message"]);
    expect(run.code).toBe(1);
    expect(run.err).toContain("not in the dead-letter queue of the local stack at http://127.0.0.1:9: no-such-message");
    expect(run.err).toContain("Nothing was moved.");
    expect(await counts(alerts)).toEqual({ visible: 0, hidden: 0 });
    expect(await counts(dlq)).toEqual({ visible: 3, hidden: 0 });
  });

  it("moves everything with --all", async () => {
    await deadLetterThree();
    const run = await h.run(["dlq", "redrive", "--all"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("Moved 3 messages");
    expect(await counts(dlq)).toEqual({ visible: 0, hidden: 0 });
    expect((await drain(alerts)).map((message) => message.Body).sort()).toEqual(
      [JSON.stringify(ALERT), "not json", JSON.stringify(alertAt("disk-full", "resolved", 1))].sort(),
    );
  });

  it("says there is nothing to move in an empty queue", async () => {
    const run = await h.run(["dlq", "redrive", "--all"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("is empty; nothing to move");
  });

  it("wants either --all or ids", async () => {
    expect((await h.run(["dlq", "redrive"])).code).toBe(2);
    const both = await h.run(["dlq", "redrive", "--all", "orig-1"]);
    expect(both.code).toBe(2);
    expect(both.err).toContain("either --all or message ids");
  });
});
