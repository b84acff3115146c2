/**
 * Issue 6's grouping, flapping and storm protection on the local stack, end to end over real
 * HTTP: Alertmanager webhooks → adapter → SQS → poller → router → the strict fake PagerDuty, with
 * the sweep on its timer. The policies come from ROUTES_JSON, as an operator would configure them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../../lib/local/stack.ts";
import type { PagerDutyTriggerEvent } from "../../lib/pagerduty/payloads.ts";
import type { FakePagerDuty } from "../support/fake-pagerduty.ts";
import { startTestStack, type TestStack } from "../support/test-stack.ts";
import { runCaptured } from "../support/cli-run.ts";
import { dedupKeyOf, notification, type AlertSpec } from "./alertmanager.ts";
import { waitFor } from "../support/wait-for.ts";

const DEFAULT_KEY = `${"POL".repeat(10)}01`;
const STORM_KEY = `${"STM".repeat(10)}02`;
const STABLE_SECONDS = 3;
const STORM_RATE = 5;

const config = {
  routes: [{ name: "storm-team", matchers: ["team=storm"], routingKey: "stormy" }],
  defaultRoute: { routingKey: "default" },
  groups: [{ name: "checkout-outage", matchers: ["service=checkout-e2e"], groupBy: ["service"], window: "5m" }],
  flapping: { changes: 3, within: "10m", stableFor: `${STABLE_SECONDS}s` },
  storm: { newIncidentsPerMinute: STORM_RATE },
};

let t: TestStack;
let fake: FakePagerDuty;
let stack: LocalStack;

beforeAll(async () => {
  t = await startTestStack({
    routingKey: DEFAULT_KEY,
    env: { PAGERDUTY_ROUTING_KEY_STORMY: STORM_KEY, ROUTES_JSON: JSON.stringify(config) },
  });
  ({ fake, stack } = t);
});

afterAll(async () => t?.close());

const iso = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString();
let fingerprints = 0;
const fingerprint = () => (fingerprints += 1).toString(16).padStart(16, "0");

async function post(spec: AlertSpec): Promise<void> {
  const response = await fetch(stack.webhooks.prometheus!, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: notification(spec),
  });
  expect(response.status).toBe(202);
}

const eventsFor = (dedupKey: string) => fake.events.filter((event) => event.dedupKey === dedupKey);
const actionsFor = (dedupKey: string) => eventsFor(dedupKey).map((event) => event.action);

async function cli(...argv: string[]) {
  const run = await runCaptured([...argv, "--stack-file", stack.stackFile], { now: new Date(), env: { USER: "e2e" } });
  expect(run.code, run.err).toBe(0);
  return run.out;
}

describe("policies on the local stack", () => {
  it("groups related alerts into one incident that resolves when the last member resolves, and state show explains it", async () => {
    const groupKey = "group:checkout-outage:service=checkout-e2e";
    const members = ["CheckoutLatency", "CheckoutErrors", "CheckoutQueueLag"].map((alertname) => ({
      alertname,
      fingerprint: fingerprint(),
      startsAt: iso(-30),
      labels: { service: "checkout-e2e" },
    }));
    for (const member of members) await post({ ...member, status: "firing" });
    await waitFor(async () => (await cli("state", "show", groupKey)).includes("3 members, 3 firing"), 8_000, "three members in the group");
    await waitFor(() => fake.incidents().some((incident) => incident.dedupKey === groupKey), 8_000, "the group's incident");
    expect(fake.incidents().filter((incident) => incident.dedupKey === groupKey)).toHaveLength(1);
    for (const member of members) expect(eventsFor(dedupKeyOf(member))).toEqual([]);

    for (const member of members.slice(0, 2)) await post({ ...member, status: "resolved", endsAt: iso(-5) });
    await waitFor(async () => (await cli("state", "show", groupKey)).includes("3 members, 1 firing"), 8_000, "two members resolved");
    expect(fake.openIncidents().some((incident) => incident.dedupKey === groupKey)).toBe(true);

    await post({ ...members[2]!, status: "resolved", endsAt: iso(-5) });
    await waitFor(() => actionsFor(groupKey).includes("resolve"), 8_000, "the group's resolve");
    expect(actionsFor(groupKey).filter((action) => action === "resolve")).toHaveLength(1);
    expect(fake.openIncidents().some((incident) => incident.dedupKey === groupKey)).toBe(false);
    const trigger = eventsFor(groupKey)[0]!.event as PagerDutyTriggerEvent;
    expect(trigger.payload.summary).toMatch(/^checkout-outage: \d of \d grouped alerts firing/);
    expect(await cli("state", "show", dedupKeyOf(members[0]!))).toContain(`It pages through the group incident ${groupKey}`);
  });

  it("holds the resolve of a flapping alert until it has been stable, then resolves once", async () => {
    const spec = { alertname: "FlappyDisk", fingerprint: fingerprint(), labels: { service: "storage-e2e" } };
    const key = dedupKeyOf(spec);
    const steps: AlertSpec[] = [
      { ...spec, status: "firing", startsAt: iso(-4) },
      { ...spec, status: "resolved", startsAt: iso(-4), endsAt: iso(-3) },
      { ...spec, status: "firing", startsAt: iso(-2) },
      { ...spec, status: "resolved", startsAt: iso(-2), endsAt: iso(0) },
    ];
    for (const [index, step] of steps.entries()) {
      await post(step);
      // Each change is routed before the next is sent, as Alertmanager's notifications would be.
      if (index < 3) await waitFor(() => actionsFor(key).length === index + 1, 8_000, `PagerDuty event ${index + 1}`);
    }
    const heldAt = Date.now();
    await waitFor(async () => (await cli("state", "show", key)).includes("It is flapping"), 8_000, "the held resolve");
    expect(actionsFor(key)).toEqual(["trigger", "resolve", "trigger"]);
    expect(await cli("state", "list")).toMatch(/flapping: resolve held/);

    await waitFor(() => actionsFor(key).length === 4, 10_000, "the resolve after the problem was stable");
    expect(Date.now() - heldAt).toBeGreaterThanOrEqual((STABLE_SECONDS - 1.5) * 1000);
    expect(actionsFor(key)).toEqual(["trigger", "resolve", "trigger", "resolve"]);
    expect(fake.openIncidents().some((incident) => incident.dedupKey === key)).toBe(false);
  });

  it("turns a burst of new problems on one routing key into one storm incident, and the other key pages as usual", async () => {
    // The storm rate counts per clock minute: start the burst well inside one.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
    const burst = Array.from({ length: 20 }, (_, n) => ({
      alertname: `StormAlert${n}`,
      fingerprint: fingerprint(),
      startsAt: iso(-10),
      labels: { service: `svc-${n}`, team: "storm" },
    }));
    for (const alert of burst) await post({ ...alert, status: "firing" });
    const calm = { alertname: "CalmAlert", fingerprint: fingerprint(), startsAt: iso(-10), labels: { service: "calm-e2e" } };
    await post({ ...calm, status: "firing" });

    await waitFor(() => fake.incidents().some((incident) => incident.dedupKey === "storm:stormy"), 10_000, "the storm incident");
    await waitFor(
      async () => (await cli("state", "show", "storm:stormy")).includes(`${burst.length - STORM_RATE} members`),
      10_000,
      "every stormed problem in the storm",
    );
    await waitFor(() => actionsFor(dedupKeyOf(calm)).includes("trigger"), 8_000, "the calm key's own incident");
    // Own pages go out as their messages are handled (a page that missed its first attempt's deadline comes back): wait for them, then
    // count exactly.
    await waitFor(
      () => fake.incidents().filter((incident) => incident.routingKey === STORM_KEY).length >= STORM_RATE + 1,
      10_000,
      "the storm-key incidents",
    );
    const stormKeyIncidents = fake.incidents().filter((incident) => incident.routingKey === STORM_KEY);
    // The first STORM_RATE problems of the minute page on their own; the rest share one incident.
    expect(stormKeyIncidents).toHaveLength(STORM_RATE + 1);

    for (const alert of burst) await post({ ...alert, status: "resolved", endsAt: iso(-1) });
    await waitFor(
      () => fake.openIncidents().every((incident) => incident.routingKey !== STORM_KEY),
      10_000,
      "every storm-key incident resolved",
    );
    expect(actionsFor("storm:stormy").filter((action) => action === "resolve")).toHaveLength(1);
  }, 45_000);
});
