/**
 * Heartbeats on the local stack (`npm start`'s programmatic form) against the strict fake
 * PagerDuty, over real HTTP and SQS: Alertmanager's Watchdog beats through the prometheus
 * webhook, the sweep timer checks a 2 s heartbeat every 200 ms, and the ops CLI reads the result.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { buildAlert } from "../../lib/alert/build.ts";
import type { LocalStack } from "../../lib/local/stack.ts";
import type { FakePagerDuty } from "../support/fake-pagerduty.ts";
import { startTestStack, type TestStack } from "../support/test-stack.ts";
import { runCaptured } from "../support/cli-run.ts";
import { notification } from "./alertmanager.ts";
import { waitFor } from "../support/wait-for.ts";

const ROUTING_KEY = `${"HB2".repeat(10)}01`;
const INTERVAL_MS = 2_000;
const MISSING_KEY = "heartbeat-missing:prometheus-watchdog";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let t: TestStack;
let fake: FakePagerDuty;
let stack: LocalStack;
let doc: DynamoDBDocumentClient;
let sqs: SQSClient;

beforeAll(async () => {
  t = await startTestStack({
    routingKey: ROUTING_KEY,
    sweepIntervalMs: 200,
    env: {
      ROUTES_JSON: JSON.stringify({
        routes: [],
        defaultRoute: { routingKey: "default" },
        heartbeats: [{ name: "prometheus-watchdog", matchers: ["alertname=Watchdog"], interval: "2s", labels: { team: "platform" } }],
      }),
    },
  });
  ({ fake, stack, doc, sqs } = t);
});

afterAll(async () => t?.close());

/** Alertmanager's Watchdog: always firing, the same startsAt on every repeat. */
const watchdog = notification({
  alertname: "Watchdog",
  status: "firing",
  fingerprint: "448881ef475b9b26",
  startsAt: "2026-11-20T00:00:00Z",
  labels: { severity: "none" },
  summary: "Watchdog",
});

async function beat(): Promise<void> {
  const response = await fetch(stack.webhooks.prometheus!, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: watchdog,
  });
  expect(response.status).toBe(202);
}

async function beats(): Promise<number> {
  const { Item } = await doc.send(
    new GetCommand({ TableName: stack.tables.state, Key: { dedupKey: "heartbeat:prometheus-watchdog" }, ConsistentRead: true }),
  );
  return (Item?.beats as number | undefined) ?? 0;
}

const heartbeatEvents = () => fake.events.filter((event) => event.dedupKey === MISSING_KEY).map((event) => event.action);

describe("heartbeats on the local stack", () => {
  it("Watchdog beats are recorded and never paged, for longer than the interval", async () => {
    const until = Date.now() + INTERVAL_MS + 1_000;
    while (Date.now() < until) {
      await beat();
      await sleep(300);
    }
    await waitFor(() => t.queueDrained(), 5_000, "the beats to be routed");
    expect(await beats()).toBeGreaterThanOrEqual(5);
    expect(fake.requests).toHaveLength(0);
  });

  it("a redelivered beat is not a second beat", async () => {
    const before = await beats();
    const body = JSON.stringify(
      buildAlert(
        {
          source: "prometheus",
          identity: "prometheus:Watchdog:448881ef475b9b26",
          status: "firing",
          severity: "info",
          occurredAt: "2026-11-20T00:00:00Z",
          summary: ["Watchdog"],
          labels: { alertname: "Watchdog" },
        },
        { receivedAt: new Date().toISOString() },
      ),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.alerts, MessageBody: body }));
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.alerts, MessageBody: body }));
    await waitFor(() => t.queueDrained(), 5_000, "both copies to be routed");
    expect(await beats()).toBe(before + 1);
    expect(fake.requests).toHaveLength(0);
  });

  it("beats stop → exactly one trigger, however many sweeps run", async () => {
    await waitFor(() => fake.triggerCount(MISSING_KEY) === 1, INTERVAL_MS + 5_000, "the missing-heartbeat trigger");
    const [incident] = fake.openIncidents();
    expect(incident).toMatchObject({ routingKey: ROUTING_KEY, dedupKey: MISSING_KEY, severity: "critical" });
    expect(incident?.summary).toMatch(
      /^No heartbeat from prometheus-watchdog for \d+s \(expected every 2s\); last seen \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    await sleep(1_000); // five more sweeps
    await stack.sweepNow();
    expect(heartbeatEvents()).toEqual(["trigger"]);
    expect((await stack.sweepNow())?.heartbeats).toMatchObject({ checked: 1, missing: ["prometheus-watchdog"], failed: [] });
  });

  it("the CLI shows the heartbeat missing and its open problem", async () => {
    const run = await runCaptured(["state", "list", "--stack-file", stack.stackFile], { now: new Date() });
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/heartbeat-missing:prometheus-watchdog\s+firing\s+critical\s+trigger/);
    expect(run.out).toMatch(/prometheus-watchdog\s+missing for \d+s/);
  });

  it("beats return → one resolve, and nothing more while they keep coming", async () => {
    await beat();
    await waitFor(() => heartbeatEvents().includes("resolve"), 5_000, "the resolve");
    for (let i = 0; i < 4; i += 1) {
      await beat();
      await sleep(300);
    }
    await waitFor(() => t.queueDrained(), 5_000, "the beats to be routed");
    await stack.sweepNow();
    expect(heartbeatEvents()).toEqual(["trigger", "resolve"]);
    expect(fake.incidents()).toEqual([expect.objectContaining({ dedupKey: MISSING_KEY, status: "resolved" })]);
    expect(fake.rejected).toEqual([]);
  });
});
