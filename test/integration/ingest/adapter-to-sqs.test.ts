/**
 * A webhook handler publishing to a real embedded SQS (local-aws-sqs), read back through the SDK:
 * what the queue holds is exactly what the adapter produced, and it passes the consumer's schema check.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiveMessageCommand, type Message } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { createAdapterHandler } from "../../../lib/handlers/adapter.ts";
import { createSqsPublisher } from "../../../lib/publish/sqs-publisher.ts";
import { createTelemetry } from "../../../lib/platform/observability.ts";
import { parseAlert } from "../../../lib/alert/schema.ts";
import { startLocalSqs, type LocalSqs } from "../../support/local-sqs.ts";
import { echoAdapter } from "../../support/echo-adapter.ts";
import { httpEvent } from "../../support/http-event.ts";
import { lambdaContext } from "../../support/lambda-context.ts";

let sqs: LocalSqs;
let queueUrl: string;

beforeAll(async () => {
  sqs = await startLocalSqs();
  queueUrl = (await sqs.createQueue("alerts-it")).url;
});
afterAll(async () => sqs.close());

async function drain(): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
  }
}

describe("adapter handler → local SQS", () => {
  it("puts every alert of a 23-alert request on the queue, schema-valid, with its source attribute", async () => {
    const handler = createAdapterHandler(echoAdapter, {
      ...createTelemetry("adapter", { source: "echo" }),
      env: {},
      webhookToken: async () => undefined,
      publisher: createSqsPublisher({ sqs: sqs.client, queueUrl }),
    });
    const keys = Array.from({ length: 23 }, (_, i) => `svc-${i}-✓`);
    const body = JSON.stringify({ alerts: keys.map((key) => ({ key, status: "firing", summary: `problem ${key}` })) });
    const response = (await handler(httpEvent(body), lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(202);

    const messages = await drain();
    const received = messages.map((m) => parseAlert(JSON.parse(m.Body!)));
    expect(received.map((a) => a.dedupKey).sort()).toEqual(keys.map((k) => `echo:${k}`).sort());
    expect(received.map((a) => a.id).sort()).toEqual((JSON.parse(response.body as string) as { ids: string[] }).ids.sort());
    expect(messages.every((m) => m.MessageAttributes?.source?.StringValue === "echo")).toBe(true);
  });
});
