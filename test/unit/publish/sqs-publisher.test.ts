import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { SQSClient, SendMessageBatchCommand, type SendMessageBatchCommandInput } from "@aws-sdk/client-sqs";
import { MAX_BATCH_BYTES, PublishError, createSqsPublisher, planBatches } from "../../../lib/publish/sqs-publisher.ts";
import { buildAlert } from "../../../lib/alert/build.ts";
import type { NormalizedAlert } from "../../../lib/alert/schema.ts";

const sqsMock = mockClient(SQSClient);
// The unit lane shares one module graph: give SQSClient back to the files after this one.
afterAll(() => sqsMock.restore());
const queueUrl = "http://sqs.local/123456789012/alerts";

function alerts(count: number, summaryChars = 10): NormalizedAlert[] {
  return Array.from({ length: count }, (_, i) =>
    buildAlert(
      {
        source: "echo",
        identity: `k${i}`,
        status: "firing",
        severity: "error",
        summary: [`alert ${i} ${"x".repeat(summaryChars)}`],
        details: { blob: "y".repeat(summaryChars * 3) },
      },
      { receivedAt: "2026-11-26T18:00:00.000Z" },
    ),
  );
}

const noSleep = async () => {};
const sentBodies = () =>
  sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => (call.args[0].input as SendMessageBatchCommandInput).Entries!.map((e) => e.MessageBody!));

beforeEach(() => sqsMock.reset());

describe("planBatches", () => {
  it("never puts more than 10 entries or more than the byte limit in one batch, and keeps order", () => {
    const entries = [
      ...Array.from({ length: 23 }, (_, i) => ({ i, bytes: 100 })),
      { i: 23, bytes: MAX_BATCH_BYTES - 50 },
      { i: 24, bytes: 100 },
    ];
    const batches = planBatches(entries);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(10);
      if (batch.length > 1) expect(batch.reduce((sum, e) => sum + e.bytes, 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    }
    expect(batches.flat().map((e) => e.i)).toEqual(entries.map((e) => e.i));
  });
});

describe("createSqsPublisher", () => {
  it("sends 25 alerts in 3 batches of at most 10", async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await createSqsPublisher({ sqs: new SQSClient({}), queueUrl, sleep: noSleep }).publish(alerts(25));
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.Entries!.length)).toEqual([10, 10, 5]);
    expect(sentBodies().map((b) => (JSON.parse(b) as NormalizedAlert).dedupKey)).toEqual(alerts(25).map((a) => a.dedupKey));
  });

  it("splits by bytes when alerts are large", async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await createSqsPublisher({ sqs: new SQSClient({}), queueUrl, sleep: noSleep }).publish(alerts(10, 3000));
    for (const call of sqsMock.commandCalls(SendMessageBatchCommand)) {
      const bytes = call.args[0].input.Entries!.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody!), 0);
      expect(bytes).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    }
  });

  it("retries only the entries a partially failed batch reports, then succeeds", async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Failed: [
          { Id: "1", Code: "InternalError", SenderFault: false },
          { Id: "3", Code: "InternalError", SenderFault: false },
        ],
      })
      .resolves({ Failed: [] });
    const delays: number[] = [];
    await createSqsPublisher({ sqs: new SQSClient({}), queueUrl, sleep: async (ms) => void delays.push(ms), random: () => 1 }).publish(
      alerts(4),
    );
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.Entries!.map((e) => e.Id)).toEqual(["1", "3"]);
    expect(delays).toEqual([100]);
  });

  it("retries a thrown error and backs off exponentially", async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .rejectsOnce(new Error("socket hang up"))
      .rejectsOnce(new Error("socket hang up"))
      .resolves({ Failed: [] });
    const delays: number[] = [];
    await createSqsPublisher({ sqs: new SQSClient({}), queueUrl, sleep: async (ms) => void delays.push(ms), random: () => 1 }).publish(
      alerts(2),
    );
    expect(delays).toEqual([100, 200]);
  });

  it("throws PublishError naming how many failed when the queue keeps failing", async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error("ServiceUnavailable"));
    const publisher = createSqsPublisher({ sqs: new SQSClient({}), queueUrl, sleep: noSleep, maxAttempts: 3 });
    const error = await publisher.publish(alerts(12)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).failedCount).toBe(12);
    expect((error as Error).message).toMatch(/12 of 12 alerts .* ServiceUnavailable/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(6);
  });

  it("refuses to publish an alert that breaks the contract", async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [] });
    const [alert] = alerts(1);
    const broken = { ...alert!, severity: "Info" } as unknown as NormalizedAlert;
    await expect(createSqsPublisher({ sqs: new SQSClient({}), queueUrl }).publish([broken])).rejects.toThrow(/severity/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});
