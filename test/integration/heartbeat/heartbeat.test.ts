/**
 * Heartbeats through the deployed wiring (createRouterRuntime) on dynalite and the strict fake
 * PagerDuty, on a clock the test moves: beats are recorded and never paged, a heartbeat that
 * stops pages once, and its return resolves once, whatever is redelivered or swept twice.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { buildAlert } from "../../../lib/alert/build.ts";
import type { NormalizedAlert } from "../../../lib/alert/schema.ts";
import { createHeartbeatStore } from "../../../lib/state-table/heartbeat-store.ts";
import { createRouterRuntime, documentClient, type RouterRuntime } from "../../../lib/handlers/router-runtime.ts";
import { createSweepHandler } from "../../../lib/handlers/sweep.ts";
import { STATE_TABLE } from "../../../lib/state-table/table.ts";
import { createTelemetry } from "../../../lib/platform/observability.ts";
import { windowsTableDefinition } from "../../../lib/suppression/dynamo-window-store.ts";
import { createTable, dynamoClient, startDynalite, type Dynalite } from "../../support/dynalite.ts";
import { startFakePagerDuty, type FakePagerDuty } from "../../support/fake-pagerduty.ts";
import { lambdaContext } from "../../support/lambda-context.ts";

const KEYS = { default: "D".repeat(32), platform: "P".repeat(32) };
const MINUTE = 60_000;
let db: Dynalite;
let fake: FakePagerDuty;
let doc: ReturnType<typeof documentClient>;
let tables = 0;
let clock = 0;
const now = () => new Date(clock);
const soon = () => Date.now() + 5_000;

const WATCHDOG = {
  name: "prometheus-watchdog",
  description: "Prometheus → Alertmanager → alert-relay",
  matchers: ["alertname=Watchdog"],
  interval: "5m",
  labels: { team: "platform" },
};
const MISSING_KEY = "heartbeat-missing:prometheus-watchdog";

beforeAll(async () => {
  [db, fake] = await Promise.all([startDynalite(), startFakePagerDuty()]);
  await createTable(db.endpoint, windowsTableDefinition("windows"));
  doc = documentClient(dynamoClient(db.endpoint));
});
afterAll(async () => {
  doc.destroy();
  await Promise.all([fake.close(), db.close()]);
});
beforeEach(() => {
  fake.reset();
  clock = Date.parse("2026-11-26T17:00:00.000Z");
});

interface Relay {
  runtime: RouterRuntime;
  table: string;
  telemetry: ReturnType<typeof createTelemetry>;
  sweep(deadline?: number): ReturnType<RouterRuntime["heartbeats"]["sweep"]>;
  tracker(name?: string): Promise<Record<string, unknown> | undefined>;
}

/** A router runtime with its own state table, these heartbeats, and team=platform routed to its own key. */
async function relay(heartbeats: object[]): Promise<Relay> {
  const table = `hb-state-${(tables += 1)}`;
  await createTable(db.endpoint, {
    TableName: table,
    KeySchema: STATE_TABLE.keySchema,
    AttributeDefinitions: STATE_TABLE.attributeDefinitions,
    GlobalSecondaryIndexes: STATE_TABLE.globalSecondaryIndexes,
    BillingMode: "PAY_PER_REQUEST",
  });
  const telemetry = createTelemetry("router");
  const runtime = createRouterRuntime(
    {
      STATE_TABLE_NAME: table,
      WINDOWS_TABLE_NAME: "windows",
      WINDOW_REFRESH_MS: "0",
      PAGERDUTY_EVENTS_URL: fake.url,
      PAGERDUTY_ROUTING_KEY: KEYS.default,
      PAGERDUTY_ROUTING_KEY_PLATFORM: KEYS.platform,
      ROUTES_JSON: JSON.stringify({
        routes: [{ name: "platform", matchers: ["team=platform"], routingKey: "platform" }],
        defaultRoute: { routingKey: "default" },
        heartbeats,
      }),
    },
    { doc, telemetry, now },
  );
  const store = createHeartbeatStore({ doc, tableName: table });
  return {
    runtime,
    table,
    telemetry,
    sweep: (deadline = soon()) => runtime.heartbeats.sweep(deadline),
    tracker: async (name = "prometheus-watchdog") => (await store.get(name)) as Record<string, unknown> | undefined,
  };
}

/** What Alertmanager sends for the always-firing Watchdog: same startsAt, same id, every repeat; only the arrival differs. */
function watchdogBeat(receivedAt = clock, status: "firing" | "resolved" = "firing"): NormalizedAlert {
  return buildAlert(
    {
      source: "prometheus",
      identity: "prometheus:Watchdog:448881ef475b9b26",
      status,
      severity: "info",
      occurredAt: "2026-11-20T00:00:00.000Z",
      summary: ["Watchdog"],
      labels: { alertname: "Watchdog", severity: "none" },
      eventKey: "2026-11-20T00:00:00Z",
    },
    { receivedAt: new Date(receivedAt).toISOString() },
  );
}

const missingEvents = () => fake.events.filter((event) => event.dedupKey === MISSING_KEY);

describe("heartbeats through the router runtime", () => {
  it("records Watchdog beats and never pages them, nor while they keep coming", async () => {
    const { runtime, sweep, tracker } = await relay([WATCHDOG]);
    for (let beat = 0; beat < 4; beat += 1) {
      expect(await runtime.router.handleAlert(watchdogBeat(), soon())).toEqual({
        outcome: "heartbeat",
        name: "prometheus-watchdog",
        why: `beat recorded at ${now().toISOString()}`,
      });
      clock += 2 * MINUTE;
      expect(await sweep()).toEqual({ checked: 1, missing: [], back: [], failed: [], unfinished: false });
    }
    expect(fake.requests).toHaveLength(0);
    expect(await tracker()).toMatchObject({
      itemType: "heartbeat",
      name: "prometheus-watchdog",
      beats: 4,
      lastBeatSource: "prometheus",
      intervalMs: 5 * MINUTE,
    });
    // Not a problem: the problem listings skip the tracker.
    const problems = [];
    for await (const problem of runtime.store.list()) problems.push(problem);
    expect(problems).toEqual([]);
  });

  it("ignores a redelivered, duplicate or older beat: lastBeatAt never moves backwards", async () => {
    const { runtime, tracker } = await relay([WATCHDOG]);
    const beat = watchdogBeat();
    await runtime.router.handleAlert(beat, soon());
    clock += 1000;
    const again = await runtime.router.handleAlert(beat, soon());
    expect(again).toMatchObject({ outcome: "heartbeat", why: expect.stringContaining("not newer than the last one") });
    await runtime.router.handleAlert(watchdogBeat(clock - MINUTE), soon());
    expect(await tracker()).toMatchObject({ beats: 1, lastBeatAt: beat.receivedAt });
  });

  it("beats stop → exactly one trigger; later, repeated and concurrent sweeps add nothing; beats return → one resolve", async () => {
    const { runtime, sweep, telemetry } = await relay([WATCHDOG]);
    const warn = vi.spyOn(telemetry.logger, "warn");
    const lastBeat = clock;
    await runtime.router.handleAlert(watchdogBeat(), soon());
    clock += 4 * MINUTE + 59_000;
    expect((await sweep()).missing).toEqual([]);

    clock = lastBeat + 7 * MINUTE;
    expect(await sweep()).toMatchObject({ missing: ["prometheus-watchdog"], failed: [] });
    expect(missingEvents().map((event) => [event.action, event.routingKey])).toEqual([["trigger", KEYS.platform]]);
    expect(fake.openIncidents()).toEqual([
      expect.objectContaining({
        dedupKey: MISSING_KEY,
        severity: "critical",
        summary:
          "No heartbeat from prometheus-watchdog for 7m (expected every 5m); last seen " +
          "2026-11-26T17:00:00Z — Prometheus → Alertmanager → alert-relay",
      }),
    ]);
    const missingLogs = () => warn.mock.calls.filter(([message]) => message === "heartbeat missing");
    expect(missingLogs()).toHaveLength(1);
    expect(warn).toHaveBeenCalledWith(
      "heartbeat missing",
      expect.objectContaining({ heartbeat: "prometheus-watchdog", missingSince: new Date(lastBeat + 5 * MINUTE).toISOString() }),
    );

    // The next runs of the sweep, one retried through the Lambda handler, two racing each other.
    clock += MINUTE;
    await sweep();
    const handlerReport = await createSweepHandler(runtime)({}, lambdaContext("sweep", 10_000));
    expect(handlerReport.heartbeats).toMatchObject({ checked: 1, missing: ["prometheus-watchdog"], failed: [] });
    clock += MINUTE;
    await Promise.all([sweep(), sweep()]);
    expect(fake.triggerCount(MISSING_KEY)).toBe(1);
    expect(missingLogs()).toHaveLength(1);
    expect(await runtime.store.get(MISSING_KEY)).toMatchObject({
      status: "firing",
      transitionAt: new Date(lastBeat + 5 * MINUTE).toISOString(),
      told: { action: "trigger", routingKeyRef: "platform" },
    });

    // Beats come back: the next sweep resolves where it triggered; nothing after that.
    clock += MINUTE;
    const returning = watchdogBeat();
    await runtime.router.handleAlert(returning, soon());
    clock += 10_000;
    expect(await sweep()).toMatchObject({ missing: [], back: ["prometheus-watchdog"], failed: [] });
    await runtime.router.handleAlert(returning, soon()); // redelivered
    clock += MINUTE;
    await runtime.router.handleAlert(watchdogBeat(), soon());
    await Promise.all([sweep(), sweep()]);
    expect(missingEvents().map((event) => [event.action, event.routingKey])).toEqual([
      ["trigger", KEYS.platform],
      ["resolve", KEYS.platform],
    ]);
    expect(fake.openIncidents()).toEqual([]);
    expect(await runtime.store.get(MISSING_KEY)).toMatchObject({
      status: "resolved",
      transitionAt: returning.receivedAt,
      told: { action: "resolve" },
    });

    // And a second outage pages again, once.
    clock += 6 * MINUTE;
    await sweep();
    await sweep();
    expect(missingEvents().map((event) => event.action)).toEqual(["trigger", "resolve", "trigger"]);
  });

  it("pages for a heartbeat that never beat, an interval after watching began", async () => {
    const { sweep, tracker } = await relay([
      { name: "datadog-heartbeat", matchers: ["source=datadog", "alertname=heartbeat"], interval: "1m", severity: "error" },
    ]);
    expect((await sweep()).missing).toEqual([]);
    expect(await tracker("datadog-heartbeat")).toMatchObject({ watchingSince: now().toISOString(), intervalMs: MINUTE });
    clock += 61_000;
    expect((await sweep()).missing).toEqual(["datadog-heartbeat"]);
    expect(fake.openIncidents()).toEqual([
      expect.objectContaining({
        dedupKey: "heartbeat-missing:datadog-heartbeat",
        routingKey: KEYS.default,
        severity: "error",
        summary:
          "No heartbeat from datadog-heartbeat for 1m 1s (expected every 1m); none seen " +
          "since alert-relay began watching at 2026-11-26T17:00:00Z",
      }),
    ]);
  });

  it("neither records nor pages a resolved Watchdog (Alertmanager resolves it when Prometheus stops)", async () => {
    const { runtime, tracker } = await relay([WATCHDOG]);
    expect(await runtime.router.handleAlert(watchdogBeat(clock, "resolved"), soon())).toMatchObject({
      outcome: "heartbeat",
      why: expect.stringContaining("not a beat"),
    });
    expect(await tracker()).toBeUndefined();
    expect(fake.requests).toHaveLength(0);
  });

  it("routes every other alert as before", async () => {
    const { runtime } = await relay([WATCHDOG]);
    const other = buildAlert(
      {
        source: "prometheus",
        identity: "prometheus:HighLatency:1",
        status: "firing",
        severity: "error",
        summary: ["slow"],
        labels: { alertname: "HighLatency" },
      },
      { receivedAt: now().toISOString() },
    );
    expect((await runtime.router.handleAlert(other, soon())).outcome).toBe("delivered");
    expect(fake.triggerCount("prometheus:HighLatency:1")).toBe(1);
  });

  it("lets a suppression window on the heartbeat label hold the page back", async () => {
    const { sweep, runtime } = await relay([{ ...WATCHDOG, name: "windowed" }]);
    await doc.send(
      new PutCommand({
        TableName: "windows",
        Item: {
          id: "hb-maintenance",
          enabled: true,
          matchers: ["heartbeat=windowed"],
          reason: "Prometheus upgrade",
          createdBy: "ops@example.com",
        },
      }),
    );
    await sweep();
    clock += 6 * MINUTE;
    expect((await sweep()).missing).toEqual(["windowed"]);
    expect(fake.requests).toHaveLength(0);
    expect(await runtime.store.get("heartbeat-missing:windowed")).toMatchObject({
      status: "firing",
      suppressedBy: "hb-maintenance",
      watch: "suppressed",
    });
  });

  it("when PagerDuty fails, reports it and the next sweep delivers the trigger, once", async () => {
    const { runtime, sweep } = await relay([WATCHDOG]);
    await runtime.router.handleAlert(watchdogBeat(), soon());
    clock += 6 * MINUTE;
    fake.down();
    const failed = await sweep(Date.now() + 1_500);
    expect(failed.failed).toEqual([{ name: "prometheus-watchdog", reason: expect.any(String) }]);
    expect(fake.triggerCount(MISSING_KEY)).toBe(0);
    fake.recover();
    clock += MINUTE;
    expect((await sweep()).failed).toEqual([]);
    await sweep();
    expect(fake.triggerCount(MISSING_KEY)).toBe(1);
  });
});
