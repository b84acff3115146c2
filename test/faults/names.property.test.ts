/**
 * Accepted means delivered, whatever the names: an Alertmanager webhook whose labels and
 * annotations carry arbitrary names (`__proto__`, `constructor`, empty, control characters,
 * any Unicode) goes adapter → queue → router → PagerDuty and pages, and nothing lands in the DLQ.
 * Seeded and bounded: 25 webhooks through the real local stack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { startTestStack, type TestStack } from "../support/test-stack.ts";
import { waitFor } from "../support/wait-for.ts";

const ROUTING_KEY = "Rnamesnamesnamesnamesnamesnames1";
let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({
    routingKey: ROUTING_KEY,
    env: { ROUTES_JSON: JSON.stringify({ routes: [], defaultRoute: { routingKey: "default" }, storm: false }) },
  });
});
afterAll(async () => t?.close());

/** Names people and programs have actually sent, and anything else. */
const name = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "",
    " ",
    "a=b",
    "x!~y",
    "名前",
    "ключ",
    "\u0000",
    "\u202e",
  ),
  fc.string({ unit: "binary", maxLength: 40 }),
);
const value = fc.string({ unit: "binary", maxLength: 60 });
/** Own-property maps built from entries: "__proto__" stays a key, as in a parsed JSON body. */
const map = fc
  .array(fc.tuple(name, value), { maxLength: 8 })
  .map((entries) => Object.fromEntries(entries.filter(([key]) => key !== "alertname")));

describe("arbitrary label and annotation names", () => {
  it("page through adapter, queue and router, and never land in the DLQ", { timeout: 120_000 }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(map, map, async (labels, annotations) => {
        run += 1;
        const fingerprint = (0xabc0000000000000n + BigInt(run)).toString(16);
        const body = JSON.stringify({
          version: "4",
          status: "firing",
          receiver: "relay",
          groupKey: "{}:{}",
          groupLabels: {},
          commonLabels: {},
          commonAnnotations: {},
          externalURL: "http://am.test",
          alerts: [
            {
              status: "firing",
              labels: { ...labels, alertname: "Names" },
              annotations,
              startsAt: new Date().toISOString(),
              endsAt: "0001-01-01T00:00:00Z",
              generatorURL: "http://prom.test",
              fingerprint,
            },
          ],
        });
        const response = await fetch(t.stack.webhooks.prometheus!, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        expect(response.status).toBe(202);
        const dedupKey = `prometheus:Names:${fingerprint}`;
        await waitFor(() => t.fake.triggerCount(dedupKey) === 1, 15_000, `a page for ${body.slice(0, 300)}`);
      }),
      { seed: 20261202, numRuns: 25, endOnFailure: true },
    );
    const { Messages = [] } = await t.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: t.stack.queues.deadLetter, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    expect(Messages.map((message) => message.MessageAttributes?.reason?.StringValue)).toEqual([]);
  });
});
