/**
 * The PagerDuty-compatible ingest end to end on the local stack: a tool that speaks PagerDuty's
 * Events API v2 is pointed at alert-relay (the same paths, its routing_key = the webhook token)
 * and its events (triggers, acknowledges, resolves, change events) reach the strict fake PagerDuty
 * through the queue and the router — with the relay's routing key, deduplication and suppression
 * windows — or are refused as PagerDuty would.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { LocalStack } from "../../lib/local/stack.ts";
import type { FakePagerDuty } from "../support/fake-pagerduty.ts";
import { startTestStack, type TestStack } from "../support/test-stack.ts";
import { waitFor } from "../support/wait-for.ts";

/** The relay's own key for PagerDuty (what routes resolve to), and the token senders use as routing_key. */
const RELAY_ROUTING_KEY = `${"PDE".repeat(10)}01`;
const TOKEN = "T0kenT0kenT0kenT0kenT0kenT0ken01";
const iso = (offsetMinutes: number) => new Date(Date.now() + offsetMinutes * 60_000).toISOString();

let t: TestStack;
let fake: FakePagerDuty;
let stack: LocalStack;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  t = await startTestStack({ routingKey: RELAY_ROUTING_KEY, env: { WEBHOOK_TOKEN: TOKEN } });
  ({ fake, stack, doc } = t);
});

afterAll(async () => t?.close());

/** What a PagerDuty sender does: POST JSON to <base>/v2/enqueue (or /v2/change/enqueue). */
async function send(body: unknown, path = "/v2/enqueue", base = stack.url): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const trigger = (dedupKey: string | undefined, extra: Record<string, unknown> = {}) => ({
  routing_key: TOKEN,
  event_action: "trigger",
  ...(dedupKey === undefined ? {} : { dedup_key: dedupKey }),
  payload: {
    summary: `Disk full on db-1 (${dedupKey ?? "no key"})`,
    source: "db-1.example.com",
    severity: "critical",
    component: "postgres",
    custom_details: { team: "storage", used: "99%" },
  },
  client: "Example Monitor",
  client_url: "https://monitor.example.com",
  ...extra,
});

describe("a PagerDuty sender pointed at alert-relay", () => {
  const dedupKey = "db-1/disk";

  it("triggers one incident in PagerDuty with the same dedup_key, on the relay's routing key", async () => {
    expect(await send(trigger(dedupKey))).toEqual({
      status: 202,
      body: { status: "success", message: "Event processed", dedup_key: dedupKey },
    });
    await waitFor(() => fake.triggerCount(dedupKey) === 1, 5_000, "the trigger");
    expect(fake.openIncidents()).toEqual([
      expect.objectContaining({ routingKey: RELAY_ROUTING_KEY, dedupKey, summary: "Disk full on db-1 (db-1/disk)", severity: "critical" }),
    ]);
    const sent = fake.events[0]!.event as {
      payload: { source: string; component: string; custom_details: Record<string, unknown> };
      links: unknown[];
    };
    expect(sent.payload).toMatchObject({
      source: "db-1.example.com",
      component: "postgres",
      custom_details: { team: "storage", used: "99%", source: "events-v2" },
    });
    expect(sent.links).toEqual([{ href: "https://monitor.example.com", text: "View in Example Monitor" }]);
    // The sender's routing_key (the token) never travels on.
    expect(JSON.stringify(fake.requests.map((request) => request.body))).not.toContain(TOKEN);
  });

  it("sends nothing for the same trigger again", async () => {
    expect((await send(trigger(dedupKey))).status).toBe(202);
    await waitFor(async () => (await t.stateOf(dedupKey))?.seen === 2, 5_000, "the duplicate to be recorded");
    expect(t.requestsFor(dedupKey)).toHaveLength(1);
  });

  it("acknowledges the incident in PagerDuty on acknowledge, on the relay's routing key", async () => {
    expect(await send({ routing_key: TOKEN, event_action: "acknowledge", dedup_key: dedupKey })).toEqual({
      status: 202,
      body: { status: "success", message: "Event processed", dedup_key: dedupKey },
    });
    await waitFor(() => fake.openIncidents()[0]?.status === "acknowledged", 5_000, "the acknowledge");
    expect(fake.events.at(-1)).toMatchObject({
      action: "acknowledge",
      effect: "acknowledged",
      event: { routing_key: RELAY_ROUTING_KEY, event_action: "acknowledge", dedup_key: dedupKey },
    });
    expect(JSON.stringify(fake.requests.map((request) => request.body))).not.toContain(TOKEN);
  });

  it("resolves the incident on resolve", async () => {
    expect((await send({ routing_key: TOKEN, event_action: "resolve", dedup_key: dedupKey })).status).toBe(202);
    await waitFor(() => t.actionsFor(dedupKey).includes("resolve"), 5_000, "the resolve");
    expect(t.actionsFor(dedupKey)).toEqual(["trigger", "acknowledge", "resolve"]);
    expect(fake.incidents()).toEqual([expect.objectContaining({ dedupKey, status: "resolved" })]);
  });

  it("answers an acknowledge for a dedup key it does not know as PagerDuty does, and sends nothing", async () => {
    const requests = fake.requests.length;
    expect(await send({ routing_key: TOKEN, event_action: "acknowledge", dedup_key: "no/such/key" })).toEqual({
      status: 202,
      body: { status: "success", message: "Event processed", dedup_key: "no/such/key" },
    });
    // The same for the resolved incident: PagerDuty would drop it too.
    expect((await send({ routing_key: TOKEN, event_action: "acknowledge", dedup_key: dedupKey })).status).toBe(202);
    await waitFor(() => t.queueDrained(), 5_000, "the acknowledges to be handled");
    expect(fake.requests).toHaveLength(requests);
    expect(fake.incidents()).toEqual([expect.objectContaining({ dedupKey, status: "resolved" })]);
  });

  it("returns the generated dedup_key of a trigger without one, and PagerDuty's incident carries it", async () => {
    const answer = await send(trigger(undefined));
    expect(answer).toMatchObject({
      status: 202,
      body: { status: "success", message: "Event processed", dedup_key: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
    const generated = answer.body.dedup_key as string;
    await waitFor(() => fake.triggerCount(generated) === 1, 5_000, "the trigger under the generated key");
    expect((await send({ routing_key: TOKEN, event_action: "resolve", dedup_key: generated })).status).toBe(202);
    await waitFor(() => t.actionsFor(generated).includes("resolve"), 5_000, "the resolve under the generated key");
  });

  it("holds a trigger back while a suppression window matches it (windows match the event's custom details)", async () => {
    const suppressedKey = "db-2/disk";
    await doc.send(
      new PutCommand({
        TableName: stack.tables.windows,
        Item: {
          id: "events-v2-maintenance",
          enabled: true,
          matchers: ["source=events-v2", "team=storage-maint"],
          startsAt: iso(-1),
          endsAt: iso(60),
          reason: "disk swap",
          createdBy: "e2e@example.com",
        },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, stack.settings.windowRefreshMs + 50));
    const body = trigger(suppressedKey, {
      payload: {
        summary: "Disk full on db-2",
        source: "db-2.example.com",
        severity: "critical",
        custom_details: { team: "storage-maint" },
      },
    });
    expect((await send(body)).status).toBe(202);
    await waitFor(
      async () => (await t.stateOf(suppressedKey))?.suppressedBy === "events-v2-maintenance",
      5_000,
      "the suppression to be recorded",
    );
    expect(t.requestsFor(suppressedKey)).toEqual([]);
  });

  it("refuses an invalid event with PagerDuty's 400 and every error, and a wrong routing_key as PagerDuty refuses one", async () => {
    const invalid = await send({ routing_key: TOKEN, event_action: "trigger", payload: { source: "db-1", severity: "Critical" } });
    expect(invalid).toEqual({
      status: 400,
      body: {
        status: "invalid event",
        message: "Event object is invalid",
        errors: ["'payload.summary' is missing or blank", "'payload.severity' is invalid (must be one of: critical, error, warning, info)"],
      },
    });
    expect(await send({ ...trigger("db-3/disk"), routing_key: "someone-elses-pagerduty-key-0001" })).toEqual({
      status: 400,
      body: { status: "invalid event", message: "Event object is invalid", errors: ["Invalid routing key"] },
    });
    const notJson = await fetch(stack.eventsApi.alerts, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({
      status: "Unrecognized object",
      message: "Event object format is unrecognized",
      errors: ["JSON parse error"],
    });
  });

  it("delivers a change event to PagerDuty's change endpoint, on the relay's routing key", async () => {
    const incidents = fake.incidents().length;
    const change = {
      routing_key: TOKEN,
      payload: { summary: "Deployed checkout v42", source: "ci.example.com", custom_details: { service: "checkout" } },
      links: [{ href: "https://ci.example.com/42", text: "Build 42" }],
    };
    expect(await send(change, "/v2/change/enqueue")).toEqual({
      status: 202,
      body: { status: "success", message: "Change event processed" },
    });
    await waitFor(() => fake.changeEvents.length === 1, 5_000, "the change event");
    expect(fake.changeEvents[0]).toMatchObject({
      routingKey: RELAY_ROUTING_KEY,
      event: {
        routing_key: RELAY_ROUTING_KEY,
        payload: { summary: "Deployed checkout v42", source: "ci.example.com", custom_details: { service: "checkout" } },
        links: [{ href: "https://ci.example.com/42", text: "Build 42" }],
      },
    });
    // A change event opens nothing.
    expect(fake.incidents()).toHaveLength(incidents);
    expect(fake.rejected).toEqual([]);
  });
});

describe("a PagerDuty sender on the local stack without a routing key", () => {
  it("runs dry: alert events, acknowledges and change events go to the outbox", async () => {
    const { stack: dry, outboxLines } = await t.startDryStack({ WEBHOOK_TOKEN: "" });
    try {
      expect((await send({ ...trigger("dry/1"), routing_key: "anything-goes-without-a-token" }, "/v2/enqueue", dry.url)).status).toBe(202);
      expect((await send({ routing_key: "x", payload: { summary: "Deployed v1" } }, "/v2/change/enqueue", dry.url)).status).toBe(202);
      const lines = await waitFor(() => (outboxLines()?.length === 2 ? outboxLines() : null), 5_000, "two outbox lines");
      const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(events).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ routing_key: "(dry-run)", event_action: "trigger", dedup_key: "dry/1" }),
          { routing_key: "(dry-run)", payload: { summary: "Deployed v1" } },
        ]),
      );
      // Once the trigger is out (and recorded as told), an acknowledge follows it.
      await waitFor(() => t.queueDrained(dry), 5_000, "the trigger to be recorded");
      expect((await send({ routing_key: "x", event_action: "acknowledge", dedup_key: "dry/1" }, "/v2/enqueue", dry.url)).status).toBe(202);
      const withAck = await waitFor(() => (outboxLines()?.length === 3 ? outboxLines() : null), 5_000, "the acknowledge in the outbox");
      expect(JSON.parse(withAck[2]!)).toEqual({
        routing_key: "(dry-run)",
        event_action: "acknowledge",
        dedup_key: "dry/1",
      });
    } finally {
      await dry.stop();
    }
  });
});
