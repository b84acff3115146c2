/**
 * The router Lambda over a batch: partial batch responses, poison messages and refusals to the
 * DLQ (a real local SQS) with their reason, and the last receive dead-lettered with a reason.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse } from "aws-lambda";
import { createRouterHandler } from "../../lib/router/sqs-handler.ts";
import { createSqsDeadLetterSink } from "../../lib/router/dead-letter.ts";
import { createTelemetry } from "../../lib/runtime/observability.ts";
import { startRouterHarness, type RouterHarness } from "../support/router-harness.ts";
import { startLocalSqs, type LocalSqs } from "../support/local-sqs.ts";
import { alertAt } from "../support/alerts.ts";
import { sqsEvent, sqsRecord } from "../support/sqs-event.ts";
import { lambdaContext } from "../support/lambda-context.ts";

let h: RouterHarness;
let sqs: LocalSqs;
let dlqUrl: string;
let n = 0;

beforeAll(async () => {
  [h, sqs] = await Promise.all([startRouterHarness(), startLocalSqs()]);
  dlqUrl = (await sqs.createQueue("alerts-dlq")).url;
});
afterAll(async () => Promise.all([h.close(), sqs.close()]));
beforeEach(() => {
  h.fake.reset();
  h.setRoute(() => ({ route: "default", routingKeyRef: "default" }));
});

function handler() {
  return createRouterHandler({
    ...createTelemetry("router"),
    router: h.router(),
    deadLetters: createSqsDeadLetterSink(sqs.client, dlqUrl),
    maxReceiveCount: 3,
    safetyMarginMs: 500,
  });
}

async function dlqMessages() {
  const { Messages = [] } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }));
  return Messages.map((m) => ({ body: m.Body, reason: m.MessageAttributes?.reason?.StringValue, originalMessageId: m.MessageAttributes?.originalMessageId?.StringValue }));
}

describe("router handler", () => {
  it("dead-letters one poison message with its reason and processes the rest of the batch", async () => {
    const keys = [`batch-${(n += 1)}-a`, `batch-${n}-b`];
    const records = [
      sqsRecord(JSON.stringify(alertAt(keys[0]!, "firing", 0))),
      sqsRecord("{not json", { messageId: "poison-1" }),
      sqsRecord(JSON.stringify({ ...alertAt("x", "firing", 0), severity: "Info" }), { messageId: "poison-2" }),
      sqsRecord(JSON.stringify(alertAt(keys[1]!, "firing", 0))),
    ];
    const response = (await handler()(sqsEvent(records), lambdaContext("router", 10_000))) as SQSBatchResponse;
    expect(response.batchItemFailures).toEqual([]);
    expect(h.fake.openIncidents().map((i) => i.dedupKey).sort()).toEqual(keys);
    const dead = await dlqMessages();
    expect(dead.map((d) => [d.originalMessageId, d.reason]).sort()).toEqual([
      ["poison-1", "message body is not JSON"],
      ["poison-2", expect.stringMatching(/^alert does not match schema v1: severity:/)],
    ]);
    expect(dead.find((d) => d.originalMessageId === "poison-1")?.body).toBe("{not json");
  });

  it("reports a delivery that must wait as a batch item failure, and dead-letters it with the reason on its last receive", async () => {
    const key = `wait-${(n += 1)}`;
    h.fake.down();
    const body = JSON.stringify(alertAt(key, "firing", 0));
    const first = (await handler()(sqsEvent([sqsRecord(body, { messageId: "w-1", receiveCount: 1 })]), lambdaContext("router", 10_000))) as SQSBatchResponse;
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: "w-1" }]);
    const last = (await handler()(sqsEvent([sqsRecord(body, { messageId: "w-1", receiveCount: 3 })]), lambdaContext("router", 10_000))) as SQSBatchResponse;
    expect(last.batchItemFailures).toEqual([]);
    const dead = await dlqMessages();
    expect(dead).toEqual([{ body, originalMessageId: "w-1", reason: expect.stringMatching(/^gave up after 3 receives: 503/) }]);
    h.fake.recover();
  });

  it("dead-letters an event PagerDuty refuses, with PagerDuty's error text", async () => {
    const key = `refused-${(n += 1)}`;
    h.setRoute(() => ({ route: "broken", routingKeyRef: "invalid" }));
    const response = (await handler()(sqsEvent([sqsRecord(JSON.stringify(alertAt(key, "firing", 0)), { messageId: "r-1" })]), lambdaContext("router", 10_000))) as SQSBatchResponse;
    expect(response.batchItemFailures).toEqual([]);
    const dead = await dlqMessages();
    expect(dead).toEqual([{ body: expect.any(String), originalMessageId: "r-1", reason: expect.stringMatching(/^PagerDuty rejected the trigger: 400.*routing_key/) }]);
  });
});
