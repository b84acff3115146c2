/**
 * The router Lambda over a batch: partial batch responses, poison messages and refusals to the
 * DLQ (a real local SQS) with their reason, and the last receive dead-lettered with a reason.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse } from "aws-lambda";
import { createRouterHandler, type RouterHandlerDeps } from "../../../lib/handlers/router.ts";
import { drainOwed } from "../../../lib/router/sweep.ts";
import type { RouteOutcome, Router } from "../../../lib/router/router.ts";
import { createSqsDeadLetterSink } from "../../../lib/router/dead-letter.ts";
import { createTelemetry } from "../../../lib/platform/observability.ts";
import { startRouterHarness, type RouterHarness } from "../../support/router-harness.ts";
import { startLocalSqs, type LocalSqs } from "../../support/local-sqs.ts";
import { alertAt } from "../../support/alerts.ts";
import { meteredDocClient } from "../../support/metered-dynamo.ts";
import { createDynamoStateStore } from "../../../lib/state-table/problem-store.ts";
import { sqsEvent, sqsRecord } from "../../support/sqs-event.ts";
import { lambdaContext } from "../../support/lambda-context.ts";

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

function handler(overrides: Partial<RouterHandlerDeps> = {}) {
  return createRouterHandler({
    ...createTelemetry("router"),
    router: h.router(),
    deadLetters: createSqsDeadLetterSink(sqs.client, dlqUrl),
    maxReceiveCount: 3,
    safetyMarginMs: 500,
    ...overrides,
  });
}

async function dlqMessages() {
  const { Messages = [] } = await sqs.client.send(
    new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
  );
  return Messages.map((m) => ({
    body: m.Body,
    reason: m.MessageAttributes?.reason?.StringValue,
    originalMessageId: m.MessageAttributes?.originalMessageId?.StringValue,
  }));
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
    expect(
      h.fake
        .openIncidents()
        .map((i) => i.dedupKey)
        .sort(),
    ).toEqual(keys);
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
    const first = (await handler()(
      sqsEvent([sqsRecord(body, { messageId: "w-1", receiveCount: 1 })]),
      lambdaContext("router", 10_000),
    )) as SQSBatchResponse;
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: "w-1" }]);
    const last = (await handler()(
      sqsEvent([sqsRecord(body, { messageId: "w-1", receiveCount: 3 })]),
      lambdaContext("router", 10_000),
    )) as SQSBatchResponse;
    expect(last.batchItemFailures).toEqual([]);
    const dead = await dlqMessages();
    expect(dead).toEqual([{ body, originalMessageId: "w-1", reason: expect.stringMatching(/^gave up after 3 receives: 503/) }]);
    h.fake.recover();
  });

  it("dead-letters an event PagerDuty refuses, with PagerDuty's error text", async () => {
    const key = `refused-${(n += 1)}`;
    h.setRoute(() => ({ route: "broken", routingKeyRef: "invalid" }));
    const response = (await handler()(
      sqsEvent([sqsRecord(JSON.stringify(alertAt(key, "firing", 0)), { messageId: "r-1" })]),
      lambdaContext("router", 10_000),
    )) as SQSBatchResponse;
    expect(response.batchItemFailures).toEqual([]);
    const dead = await dlqMessages();
    expect(dead).toEqual([
      {
        body: expect.any(String),
        originalMessageId: "r-1",
        reason: expect.stringMatching(/^PagerDuty rejected the trigger: 400.*routing_key/),
      },
    ]);
  });

  it("brings a message that must wait back after a short backoff that grows per receive and honours Retry-After", async () => {
    const key = `backoff-${(n += 1)}`;
    const waits: [string, number][] = [];
    const redeliverIn = async (receipt: string, seconds: number) => {
      waits.push([receipt, seconds]);
    };
    const many = {
      ...createTelemetry("router"),
      maxReceiveCount: 1000,
      redelivery: { baseMs: 1_000, maxMs: 60_000, giveUpAfterMs: 3_600_000 },
    };
    h.fake.down({ status: 503 });
    const body = JSON.stringify(alertAt(key, "firing", 0));
    for (const receiveCount of [1, 2, 3, 8]) {
      const response = (await handler({ ...many, redeliverIn })(
        sqsEvent([sqsRecord(body, { messageId: "b-1", receiveCount, receiptHandle: `r${receiveCount}` })]),
        lambdaContext("router", 3_000),
      )) as SQSBatchResponse;
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: "b-1" }]);
    }
    h.fake.recover();
    expect(waits.map(([receipt]) => receipt)).toEqual(["r1", "r2", "r3", "r8"]);
    const [w1, w2, w3, w8] = waits.map(([, seconds]) => seconds);
    // 1 s, 2 s, 4 s ... jittered into the upper half, never more than the 60 s cap.
    expect(w1).toBeLessThanOrEqual(1);
    expect(w2).toBeLessThanOrEqual(2);
    expect(w3).toBeGreaterThanOrEqual(2);
    expect(w3).toBeLessThanOrEqual(4);
    expect(w8).toBeGreaterThanOrEqual(30);
    expect(w8).toBeLessThanOrEqual(60);
    expect(await dlqMessages()).toEqual([]);

    // A router that says how long (PagerDuty's Retry-After, a paused key) is not asked again sooner.
    const waiting: Router = {
      handleAlert: async () => ({ outcome: "retry", reason: "429 rate limited", retryAfterMs: 42_000 }),
      reconcileKey: async () => undefined,
    };
    await handler({ ...many, router: waiting, redeliverIn })(
      sqsEvent([sqsRecord(body, { messageId: "b-2", receiveCount: 1, receiptHandle: "ra" })]),
      lambdaContext("router", 3_000),
    );
    expect(waits.at(-1)).toEqual(["ra", 42]);
  });

  it("dead-letters by age, not by receive count: an old message that still cannot be delivered goes with its reason", async () => {
    const key = `old-${(n += 1)}`;
    h.fake.down({ status: 503 });
    const body = JSON.stringify(alertAt(key, "firing", 0));
    const young = (await handler({ maxReceiveCount: 1000 })(
      sqsEvent([sqsRecord(body, { messageId: "o-1", receiveCount: 200, sentAt: Date.now() - 5 * 3_600_000 })]),
      lambdaContext("router", 3_000),
    )) as SQSBatchResponse;
    expect(young.batchItemFailures).toEqual([{ itemIdentifier: "o-1" }]);
    expect(await dlqMessages()).toEqual([]);
    const old = (await handler({ maxReceiveCount: 1000 })(
      sqsEvent([sqsRecord(body, { messageId: "o-1", receiveCount: 201, sentAt: Date.now() - 6 * 3_600_000 - 1_000 })]),
      lambdaContext("router", 3_000),
    )) as SQSBatchResponse;
    h.fake.recover();
    expect(old.batchItemFailures).toEqual([]);
    expect(await dlqMessages()).toEqual([
      { body, originalMessageId: "o-1", reason: expect.stringMatching(/^gave up after 6h \(201 receives\): 503/) },
    ]);
  });

  it("records an exception while routing as the message's reason: retried, then in the DLQ with what went wrong", async () => {
    const throwing: Router = {
      handleAlert: async () => {
        throw new TypeError("Unsupported type passed: [object Object]");
      },
      reconcileKey: async () => undefined,
    };
    const body = JSON.stringify(alertAt(`throws-${(n += 1)}`, "firing", 0));
    const first = (await handler({ router: throwing })(
      sqsEvent([sqsRecord(body, { messageId: "e-1", receiveCount: 1 }), sqsRecord(JSON.stringify(alertAt(`fine-${n}`, "firing", 0)))]),
      lambdaContext("router", 3_000),
    )) as SQSBatchResponse;
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: "e-1" }, expect.anything()]);
    const last = (await handler({ router: throwing })(
      sqsEvent([sqsRecord(body, { messageId: "e-1", receiveCount: 3 })]),
      lambdaContext("router", 3_000),
    )) as SQSBatchResponse;
    expect(last.batchItemFailures).toEqual([]);
    expect(await dlqMessages()).toEqual([
      {
        body,
        originalMessageId: "e-1",
        reason: "gave up after 3 receives: routing failed with an error: TypeError: Unsupported type passed: [object Object]",
      },
    ]);
  });
});

describe("messages of one problem in one batch", () => {
  it("are routed one after another in batch order, while other problems' messages run alongside", async () => {
    const [a, b] = [`order-${(n += 1)}-a`, `order-${n}-b`];
    const real = h.router();
    const active = new Map<string, number>();
    const overlaps: string[] = [];
    let mostAtOnce = 0;
    const routed: string[] = [];
    const probe: Router = {
      ...real,
      async handleAlert(alert, deadline) {
        const running = (active.get(alert.dedupKey) ?? 0) + 1;
        active.set(alert.dedupKey, running);
        if (running > 1) overlaps.push(alert.dedupKey);
        mostAtOnce = Math.max(
          mostAtOnce,
          [...active.values()].reduce((sum, v) => sum + v, 0),
        );
        try {
          return await real.handleAlert(alert, deadline);
        } finally {
          routed.push(`${alert.dedupKey} ${alert.status}`);
          active.set(alert.dedupKey, active.get(alert.dedupKey)! - 1);
        }
      },
    };
    // A firing, an HA peer's copy of it and its resolve, with another problem's messages between.
    const records = [
      alertAt(a, "firing", 0),
      alertAt(b, "firing", 0),
      alertAt(a, "firing", 0),
      alertAt(b, "firing", 1),
      alertAt(a, "resolved", 2),
    ].map((alert, i) => sqsRecord(JSON.stringify(alert), { messageId: `order-${i}` }));
    const response = (await handler({ router: probe })(sqsEvent(records), lambdaContext("router", 10_000))) as SQSBatchResponse;

    expect(response.batchItemFailures).toEqual([]);
    expect(overlaps).toEqual([]);
    expect(mostAtOnce).toBe(2);
    expect(routed.filter((r) => r.startsWith(a))).toEqual([`${a} firing`, `${a} firing`, `${a} resolved`]);
    expect(h.fake.events.filter((e) => e.dedupKey === a).map((e) => e.action)).toEqual(["trigger", "resolve"]);
  });
});

describe("the end of a PagerDuty outage", () => {
  it("delivers everything owed as soon as one delivery gets through, without waiting for each message to come back", async () => {
    const keys = [1, 2, 3].map((i) => `drain-${(n += 1)}-${i}`);
    const router = h.router();
    const one = handler({
      router,
      maxReceiveCount: 1000,
      drainOwed: async (deadline) => (await drainOwed(h.store, router, deadline)).delivered,
    });
    h.fake.down({ status: 503 });
    const failed = (await one(
      sqsEvent(keys.map((key) => sqsRecord(JSON.stringify(alertAt(key, "firing", 0))))),
      lambdaContext("router", 3_000),
    )) as SQSBatchResponse;
    expect(failed.batchItemFailures).toHaveLength(3);
    h.fake.recover();
    // The first message back after the outage gets through; the other two are still waiting out their backoff.
    await one(sqsEvent([sqsRecord(JSON.stringify(alertAt(keys[0]!, "firing", 0)))]), lambdaContext("router", 3_000));
    expect(keys.map((key) => h.fake.triggerCount(key))).toEqual([1, 1, 1]);
    // Their messages, when they come back, find nothing left to send.
    await one(sqsEvent(keys.slice(1).map((key) => sqsRecord(JSON.stringify(alertAt(key, "firing", 0))))), lambdaContext("router", 3_000));
    expect(keys.map((key) => h.fake.triggerCount(key))).toEqual([1, 1, 1]);
  });
});

describe("no drain without an outage", () => {
  it("does not drain after pacing waits or races: only PagerDuty's own failures make a later success a recovery", async () => {
    let drains = 0;
    const outcomes: RouteOutcome[] = [
      { outcome: "retry", reason: "paced: routing key 'default' waits", retryAfterMs: 2_000 },
      { outcome: "delivered", actions: ["trigger"], recorded: "new" },
    ];
    const scripted: Router = { handleAlert: async () => outcomes.shift()!, reconcileKey: async () => undefined };
    const one = handler({ router: scripted, maxReceiveCount: 1000, drainOwed: async () => ((drains += 1), 0) });
    for (let i = 0; i < 2; i += 1)
      await one(sqsEvent([sqsRecord(JSON.stringify(alertAt(`pace-${(n += 1)}`, "firing", 0)))]), lambdaContext("router", 3_000));
    expect(drains).toBe(0);
  });
});

describe("copies of one problem in a batch", () => {
  it("go one after the other in queue order: one page, every message done, no conditional write lost to a race", async () => {
    const key = `copies-${(n += 1)}`;
    const metered = meteredDocClient(h.endpoint);
    const one = handler({ router: h.router({ store: createDynamoStateStore({ doc: metered.doc, tableName: h.tableName }) }) });
    const firing = alertAt(key, "firing", 0);
    // An HA peer's copy, a redelivery of the first and a later re-send, arriving together; a problem of its own beside them.
    const bodies = [
      firing,
      { ...firing, id: `${firing.id}-peer` },
      firing,
      alertAt(key, "firing", 3),
      alertAt(`${key}-other`, "firing", 0),
    ];
    const response = (await one(
      sqsEvent(bodies.map((alert, i) => sqsRecord(JSON.stringify(alert), { messageId: `${key}-${i}` }))),
      lambdaContext("router", 10_000),
    )) as SQSBatchResponse;
    expect(response.batchItemFailures).toEqual([]);
    expect([h.fake.triggerCount(key), h.fake.triggerCount(`${key}-other`)]).toEqual([1, 1]);
    expect(metered.failedWrites()).toEqual([]);
    expect((await h.store.get(key))!).toMatchObject({ seen: 4, deduplicated: 3 });
  });
});
