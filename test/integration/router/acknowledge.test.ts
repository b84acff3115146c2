/**
 * Acknowledges in the router, on dynalite and the strict fake PagerDuty with the real client: a
 * "pagerduty-acknowledge" message reaches PagerDuty where the problem's trigger went, only when
 * PagerDuty has an incident of its own for that dedup key; refusals and exhausted retries go to the
 * DLQ with their reason, and nothing is written to the problem's state.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { SQSBatchResponse } from "aws-lambda";
import { readAlertEvent } from "../../../lib/ingest/pagerduty-events/events-v2.ts";
import { parseMatcherList } from "../../../lib/matchers/matcher.ts";
import { createPagerDutyClient } from "../../../lib/pagerduty/client.ts";
import { createAcknowledgeRouter, createPagerDutyAcknowledgeSender } from "../../../lib/router/acknowledge.ts";
import { createAggregateStore } from "../../../lib/state-table/aggregate-store.ts";
import type { DeadLetterSink } from "../../../lib/router/dead-letter.ts";
import type { RouterDeps } from "../../../lib/router/router.ts";
import { createRouterHandler } from "../../../lib/handlers/router.ts";
import { COUNTED, METRIC, createTelemetry } from "../../../lib/platform/observability.ts";
import { ROUTING_KEYS, startRouterHarness, type RouterHarness } from "../../support/router-harness.ts";
import { lambdaContext } from "../../support/lambda-context.ts";
import { sqsEvent, sqsRecord } from "../../support/sqs-event.ts";

let h: RouterHarness;
let run = 0;
/** Each test gets its own dedup keys: the table is shared. */
let prefix = "";

beforeAll(async () => void (h = await startRouterHarness()));
afterAll(async () => h.close());
beforeEach(() => {
  h.fake.reset();
  h.setRoute(() => ({ route: "default", routingKeyRef: "default" }));
  h.setWindow(() => undefined);
  prefix = `ack${(run += 1)}`;
});

/** What the Events API v2 ingest puts on the queue for a sender's event. */
function queued(body: Record<string, unknown>): string {
  const result = readAlertEvent({ routing_key: "the-senders-key", ...body }, { receivedAt: new Date().toISOString() });
  if (!result.ok) throw new Error(result.errors.join("; "));
  return JSON.stringify(result.action === "acknowledge" ? result.message : result.alert);
}
const trigger = (dedupKey: string, customDetails: Record<string, string> = {}) =>
  queued({
    event_action: "trigger",
    dedup_key: dedupKey,
    payload: { summary: `${dedupKey} is down`, source: "db-1", severity: "critical", custom_details: customDetails },
  });
const acknowledge = (dedupKey: string) => queued({ event_action: "acknowledge", dedup_key: dedupKey });
const resolve = (dedupKey: string) => queued({ event_action: "resolve", dedup_key: dedupKey });

function setup(options: { policies?: RouterDeps["policies"]; keys?: Record<string, string>; acknowledgements?: boolean } = {}) {
  const dead: { body: string; reason: string }[] = [];
  const deadLetters: DeadLetterSink = { send: async (body, reason) => void dead.push({ body, reason }) };
  const telemetry = createTelemetry("router");
  const routed: Record<string, unknown>[] = [];
  vi.spyOn(telemetry.logger, "info").mockImplementation((...args: unknown[]) => {
    if (args[0] === "acknowledge routed") routed.push(args[1] as Record<string, unknown>);
  });
  vi.spyOn(telemetry.logger, "error").mockImplementation(() => {});
  const counted: string[] = [];
  vi.spyOn(telemetry.metrics, "count").mockImplementation((name, value) => void counted.push(`${name} ${COUNTED[name]}=${value}`));
  const client = createPagerDutyClient({ baseUrl: h.fake.url, baseDelayMs: 5, maxDelayMs: 20, requestTimeoutMs: 400, maxAttempts: 3 });
  const keys = options.keys ?? ROUTING_KEYS;
  const send = createPagerDutyAcknowledgeSender(client, async (ref) => {
    const key = keys[ref];
    if (!key) throw new Error(`no key for ${ref}`);
    return key;
  });
  const aggregates = options.policies
    ? { aggregates: createAggregateStore({ doc: h.doc, tableName: h.tableName }), policies: options.policies }
    : {};
  const handler = createRouterHandler({
    ...telemetry,
    router: h.router(aggregates),
    deadLetters,
    ...(options.acknowledgements === false ? {} : { acknowledgements: createAcknowledgeRouter({ store: h.store, send }) }),
    maxReceiveCount: 3,
    safetyMarginMs: 100,
  });
  let n = 0;
  /** Handles one message; returns the ids SQS must bring back. */
  const handle = async (body: string, receiveCount = 1) => {
    const response = (await handler(
      sqsEvent([sqsRecord(body, { messageId: `${prefix}-m${(n += 1)}`, receiveCount })]),
      lambdaContext("router", 10_000),
    )) as SQSBatchResponse;
    return response.batchItemFailures.map((failure) => failure.itemIdentifier);
  };
  return { handle, dead, routed, counted };
}

const acksSent = () => h.fake.events.filter((event) => event.action === "acknowledge");

describe("acknowledges through the router", () => {
  it("acknowledges PagerDuty's incident where the trigger went (even after routing changed), then the resolve resolves it", async () => {
    const { handle, dead, routed, counted } = setup();
    const key = `${prefix}/db-1/disk`;
    expect(await handle(trigger(key))).toEqual([]);
    expect(h.fake.openIncidents()).toEqual([
      expect.objectContaining({ dedupKey: key, routingKey: ROUTING_KEYS.default, status: "triggered" }),
    ]);
    const before = await h.store.get(key);

    h.setRoute(() => ({ route: "payments", routingKeyRef: "payments" }));
    expect(await handle(acknowledge(key))).toEqual([]);
    expect(acksSent()).toEqual([
      expect.objectContaining({
        routingKey: ROUTING_KEYS.default,
        effect: "acknowledged",
        event: { routing_key: ROUTING_KEYS.default, event_action: "acknowledge", dedup_key: key },
      }),
    ]);
    expect(h.fake.openIncidents()).toEqual([expect.objectContaining({ dedupKey: key, status: "acknowledged" })]);
    expect(routed).toEqual([expect.objectContaining({ outcome: "relayed", route: "default", routingKeyRef: "default", dedupKey: key })]);
    expect(counted).toEqual(
      expect.arrayContaining([`${METRIC.routerOutcomes} outcome=relayed`, `${METRIC.pagerDutyEvents} action=acknowledge`]),
    );
    // No state is written for an acknowledge.
    expect(await h.store.get(key)).toEqual(before);

    // A second acknowledge is passed on too: PagerDuty's acknowledges are idempotent.
    expect(await handle(acknowledge(key))).toEqual([]);
    expect(acksSent()).toHaveLength(2);

    expect(await handle(resolve(key))).toEqual([]);
    expect(h.fake.incidents()).toEqual([expect.objectContaining({ dedupKey: key, status: "resolved" })]);
    expect(dead).toEqual([]);
    expect(h.fake.rejected).toEqual([]);
  });

  it("sends nothing for an unknown dedup key, a resolved problem, or one a window held back; each says why", async () => {
    const { handle, dead, routed, counted } = setup();
    // The first receive of a fresh acknowledge waits once: its trigger may be right behind it.
    const neverSeen = acknowledge(`${prefix}/never-seen`);
    expect(await handle(neverSeen)).toHaveLength(1);
    expect(routed.splice(0)).toEqual([
      expect.objectContaining({ outcome: "in_flight", why: expect.stringContaining("its trigger may still be on its way") }),
    ]);
    expect(await handle(neverSeen, 2)).toEqual([]);

    const resolvedKey = `${prefix}/resolved`;
    await handle(trigger(resolvedKey));
    await handle(resolve(resolvedKey));
    expect(await handle(acknowledge(resolvedKey))).toEqual([]);

    const suppressedKey = `${prefix}/suppressed`;
    h.setWindow(() => ({ id: "db-maintenance", reason: "disk swap" }));
    await handle(trigger(suppressedKey));
    expect(await handle(acknowledge(suppressedKey))).toEqual([]);

    expect(acksSent()).toEqual([]);
    expect(dead).toEqual([]);
    expect(routed.map(({ outcome, reason, why }) => ({ outcome, reason, why }))).toEqual([
      { outcome: "not_relayed", reason: "unknown", why: expect.stringContaining("no problem with this dedup key") },
      { outcome: "not_relayed", reason: "resolved", why: "the problem is resolved" },
      { outcome: "not_relayed", reason: "not_paged", why: expect.stringContaining("suppression window db-maintenance") },
    ]);
    expect(counted.filter((metric) => metric === `${METRIC.routerOutcomes} outcome=not_relayed`)).toHaveLength(3);
  });

  it("relays an acknowledge that overtook its trigger on the queue, once the trigger is through", async () => {
    const { handle, routed } = setup();
    const key = `${prefix}/overtaken`;
    const ack = acknowledge(key);
    expect(await handle(ack)).toHaveLength(1);
    expect(await handle(trigger(key))).toEqual([]);
    expect(await handle(ack, 2)).toEqual([]);
    expect(routed.map((entry) => entry.outcome)).toEqual(["in_flight", "relayed"]);
    expect(h.fake.openIncidents()).toEqual([expect.objectContaining({ dedupKey: key, status: "acknowledged" })]);
  });

  it("does not acknowledge a group incident for one of its members: the other members share it", async () => {
    const group = {
      name: `${prefix}-disks`,
      matchers: parseMatcherList(["source=events-v2", `team=${prefix}`]).matchers,
      groupBy: ["team"],
      windowMs: 600_000,
    };
    const { handle, routed } = setup({ policies: { groups: [group] } });
    const [first, second] = [`${prefix}/db-1`, `${prefix}/db-2`];
    await handle(trigger(first, { team: prefix }));
    await handle(trigger(second, { team: prefix }));
    const groupKey = `group:${prefix}-disks:team=${prefix}`;
    expect(h.fake.openIncidents()).toEqual([expect.objectContaining({ dedupKey: groupKey, status: "triggered" })]);

    expect(await handle(acknowledge(first))).toEqual([]);
    // Nor the group's own key, should a sender learn it from PagerDuty: the ingest refuses it.
    expect(
      readAlertEvent(
        { routing_key: "the-senders-key", event_action: "acknowledge", dedup_key: groupKey },
        { receivedAt: new Date().toISOString() },
      ),
    ).toMatchObject({
      ok: false,
      errors: [expect.stringContaining(`may not start with "group:"`)],
    });
    expect(acksSent()).toEqual([]);
    expect(h.fake.openIncidents()).toEqual([expect.objectContaining({ dedupKey: groupKey, status: "triggered" })]);
    expect(routed).toEqual([
      expect.objectContaining({ outcome: "not_relayed", reason: "aggregate", why: expect.stringContaining(`group incident ${groupKey}`) }),
    ]);
  });

  it("dead-letters an acknowledge PagerDuty refuses, with PagerDuty's reason", async () => {
    const key = `${prefix}/refused`;
    await setup().handle(trigger(key));
    // The acknowledging router's key for "default" is wrong (say, rotated badly): PagerDuty answers 400.
    const { handle, dead, routed } = setup({ keys: { default: "too-short" } });
    expect(await handle(acknowledge(key))).toEqual([]);
    expect(routed).toEqual([expect.objectContaining({ outcome: "rejected" })]);
    expect(dead).toEqual([
      {
        body: expect.stringContaining('"kind":"pagerduty-acknowledge"'),
        reason: expect.stringMatching(/^PagerDuty refused the acknowledge: 400 .*routing_key/),
      },
    ]);
    expect(h.fake.openIncidents()).toEqual([expect.objectContaining({ dedupKey: key, status: "triggered" })]);
  });

  it("leaves an acknowledge it cannot send yet on the queue, and dead-letters it on the last receive with the reason", async () => {
    const { handle, dead, routed } = setup();
    const key = `${prefix}/outage`;
    await handle(trigger(key));
    h.fake.down();
    const body = acknowledge(key);
    expect(await handle(body, 1)).toEqual([`${prefix}-m2`]);
    expect(dead).toEqual([]);
    expect(await handle(body, 3)).toEqual([]);
    expect(dead).toEqual([{ body, reason: expect.stringMatching(/^gave up after 3 receives: 503 from PagerDuty/) }]);
    expect(routed.map((fields) => fields.outcome)).toEqual(["retry", "retry"]);

    // Back up: the redelivered copy acknowledges.
    h.fake.recover();
    expect(await handle(body, 2)).toEqual([]);
    expect(h.fake.openIncidents()).toEqual([expect.objectContaining({ dedupKey: key, status: "acknowledged" })]);
  });

  it("dead-letters a malformed acknowledge message, and one a router without acknowledge delivery receives", async () => {
    const { handle, dead } = setup();
    const message = JSON.parse(acknowledge(`${prefix}/x`)) as Record<string, unknown>;
    await handle(JSON.stringify({ ...message, dedupKey: "" }));
    expect(dead).toEqual([
      { body: expect.any(String), reason: expect.stringMatching(/^acknowledge message does not match schema v1: dedupKey:/) },
    ]);
    const without = setup({ acknowledgements: false });
    await without.handle(JSON.stringify(message));
    expect(without.dead).toEqual([{ body: expect.any(String), reason: "this router has no acknowledge delivery configured" }]);
    expect(h.fake.requests).toEqual([]);
  });
});
