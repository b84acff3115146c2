/**
 * Change events in the router: a "pagerduty-change" message is routed with the same routes as
 * alerts and sent with the real PagerDuty client to the strict fake's change endpoint; refusals and
 * exhausted retries go to the DLQ with their reason, the rest of the batch goes on.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { SQSBatchResponse } from "aws-lambda";
import { readAlertEvent, readChangeEvent } from "../../../lib/ingest/pagerduty-events/events-v2.ts";
import type { ChangeMessage } from "../../../lib/messages/change-message.ts";
import { createPagerDutyClient } from "../../../lib/pagerduty/client.ts";
import { createChangeEventRouter, createPagerDutyChangeSender, type SendChange } from "../../../lib/router/change-events.ts";
import type { DeadLetterSink } from "../../../lib/router/dead-letter.ts";
import type { Router } from "../../../lib/router/router.ts";
import { createRouterHandler } from "../../../lib/handlers/router.ts";
import { parseRoutesConfig } from "../../../lib/routes/routes-config.ts";
import { resolveRoute } from "../../../lib/routes/resolve-route.ts";
import { createTelemetry } from "../../../lib/platform/observability.ts";
import { startFakePagerDuty, type FakePagerDuty } from "../../support/fake-pagerduty.ts";
import { lambdaContext } from "../../support/lambda-context.ts";
import { sqsEvent, sqsRecord } from "../../support/sqs-event.ts";

const KEYS: Record<string, string> = {
  default: "R0defaultdefaultdefaultdefault01",
  "payments-deploys": "R0paymentspaymentspaymentspays02",
  broken: "too-short",
};
const ROUTES = parseRoutesConfig({
  routes: [
    { name: "payments", matchers: ["team=payments", "source=events-v2"], routingKey: "payments-deploys" },
    { name: "broken", matchers: ["team=broken"], routingKey: "broken" },
    { name: "unknown-key", matchers: ["team=nokey"], routingKey: "missing" },
    { name: "critical-only", matchers: ["severity=critical"], routingKey: "payments-deploys" },
  ],
  defaultRoute: { routingKey: "default" },
});

let fake: FakePagerDuty;
beforeAll(async () => void (fake = await startFakePagerDuty()));
afterAll(async () => fake.close());
beforeEach(() => fake.reset());

function changeMessage(customDetails: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): ChangeMessage {
  const result = readChangeEvent(
    {
      routing_key: "sender-key",
      payload: { summary: "Deployed checkout v42", source: "ci.example.com", custom_details: customDetails },
      links: [{ href: "https://ci.example.com/42" }],
      ...extra,
    },
    { receivedAt: "2026-11-26T18:00:00.000Z" },
  );
  if (!result.ok) throw new Error(result.errors.join("; "));
  return result.message;
}

function sender(): SendChange {
  const client = createPagerDutyClient({ baseUrl: fake.url, baseDelayMs: 5, maxDelayMs: 20, requestTimeoutMs: 400, maxAttempts: 3 });
  return createPagerDutyChangeSender(client, async (ref) => {
    const key = KEYS[ref];
    if (!key) throw new Error(`no key named ${ref}`);
    return key;
  });
}

function setup(options: { changeEvents?: boolean } = {}) {
  const dead: { body: string; reason: string }[] = [];
  const deadLetters: DeadLetterSink = { send: async (body, reason) => void dead.push({ body, reason }) };
  const handleAlert = vi.fn(async () => ({ outcome: "delivered", actions: ["trigger"], recorded: "transition" }) as const);
  const handler = createRouterHandler({
    ...createTelemetry("router"),
    router: { handleAlert } as unknown as Router,
    deadLetters,
    ...(options.changeEvents === false
      ? {}
      : { changeEvents: createChangeEventRouter({ route: (subject) => resolveRoute(ROUTES, subject), send: sender() }) }),
    maxReceiveCount: 3,
    safetyMarginMs: 100,
  });
  const run = async (...records: ReturnType<typeof sqsRecord>[]) =>
    (await handler(sqsEvent(records), lambdaContext("router", 10_000))) as SQSBatchResponse;
  return { run, dead, handleAlert };
}

describe("change events through the router", () => {
  it("routes by labels like alerts and sends the change event, with the route's key, to PagerDuty's change endpoint", async () => {
    const { run, dead } = setup();
    const message = changeMessage({ team: "payments", sha: "abc123" });
    const response = await run(sqsRecord(JSON.stringify(message)), sqsRecord(JSON.stringify(changeMessage({ team: "search" }))));
    expect(response.batchItemFailures).toEqual([]);
    expect(dead).toEqual([]);
    expect(fake.changeEvents.map((c) => c.routingKey)).toEqual([KEYS["payments-deploys"], KEYS.default]);
    expect(fake.changeEvents[0]!.event).toEqual({
      routing_key: KEYS["payments-deploys"],
      payload: { summary: "Deployed checkout v42", source: "ci.example.com", custom_details: { team: "payments", sha: "abc123" } },
      links: [{ href: "https://ci.example.com/42" }],
    });
    // Change events open nothing.
    expect(fake.incidents()).toEqual([]);
    expect(fake.rejected).toEqual([]);
  });

  it("matches a change event as severity info: a route for critical alerts does not take it", () => {
    const router = createChangeEventRouter({
      route: (subject) => resolveRoute(ROUTES, subject),
      send: async () => ({ outcome: "accepted" }),
    });
    return expect(router.handleChange(changeMessage({ team: "other" }), Date.now() + 1000)).resolves.toEqual({
      outcome: "delivered",
      route: "default",
      routingKeyRef: "default",
    });
  });

  it("dead-letters a change event PagerDuty refuses, with PagerDuty's reason, and goes on with the batch", async () => {
    const { run, dead, handleAlert } = setup();
    const alert = readAlertEvent({ routing_key: "k", event_action: "resolve", dedup_key: "x" }, { receivedAt: "2026-11-26T18:00:00.000Z" });
    if (!alert.ok || alert.action === "acknowledge") throw new Error("unexpected");
    const response = await run(sqsRecord(JSON.stringify(changeMessage({ team: "broken" }))), sqsRecord(JSON.stringify(alert.alert)));
    expect(response.batchItemFailures).toEqual([]);
    expect(dead).toEqual([
      {
        body: expect.stringContaining('"kind":"pagerduty-change"'),
        reason: expect.stringMatching(/^PagerDuty refused the change event: 400 .*routing_key/),
      },
    ]);
    expect(handleAlert).toHaveBeenCalledTimes(1);
  });

  it("leaves a change event it cannot send yet on the queue, and dead-letters it on the last receive with the reason", async () => {
    const { run, dead } = setup();
    const record = (receiveCount: number) =>
      sqsRecord(JSON.stringify(changeMessage({ team: "nokey" })), { messageId: "m-nokey", receiveCount });
    expect((await run(record(1))).batchItemFailures).toEqual([{ itemIdentifier: "m-nokey" }]);
    expect(dead).toEqual([]);
    fake.down();
    const down = await run(sqsRecord(JSON.stringify(changeMessage()), { messageId: "m-down" }));
    expect(down.batchItemFailures).toEqual([{ itemIdentifier: "m-down" }]);
    fake.recover();
    expect((await run(record(3))).batchItemFailures).toEqual([]);
    expect(dead).toEqual([
      { body: expect.any(String), reason: expect.stringMatching(/^gave up after 3 receives: no routing key for "missing"/) },
    ]);
  });

  it("dead-letters a malformed change message, and one a router without change delivery receives", async () => {
    const { run, dead } = setup();
    await run(sqsRecord(JSON.stringify({ ...changeMessage(), event: { payload: {} } })));
    expect(dead).toEqual([
      {
        body: expect.any(String),
        reason: expect.stringMatching(/^change event message does not match schema v1: event\.payload\.summary/),
      },
    ]);
    const without = setup({ changeEvents: false });
    await without.run(sqsRecord(JSON.stringify(changeMessage())));
    expect(without.dead).toEqual([{ body: expect.any(String), reason: "this router has no change-event delivery configured" }]);
    expect(fake.changeEvents).toEqual([]);
  });
});
