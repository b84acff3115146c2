/**
 * Group incidents, storm incidents and flapping holds on dynalite and the strict fake PagerDuty:
 * what PagerDuty ends up with, including redeliveries, racing instances and outages.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRouterHarness, type RouterHarness } from "../../support/router-harness.ts";
import { alertAt } from "../../support/alerts.ts";
import { meteredDocClient } from "../../support/metered-dynamo.ts";
import { createAggregateStore } from "../../../lib/state-table/aggregate-store.ts";
import { createDynamoStateStore } from "../../../lib/state-table/problem-store.ts";
import { sweepWatched } from "../../../lib/router/sweep.ts";
import { MAX_RECORDED_CHANGES } from "../../../lib/router/flapping.ts";
import { parseMatcherList } from "../../../lib/matchers/matcher.ts";
import type { RouterDeps } from "../../../lib/router/router.ts";
import type { GroupRule } from "../../../lib/routes/policies.ts";
import type { PagerDutyTriggerEvent } from "../../../lib/pagerduty/payloads.ts";

let h: RouterHarness;
let run = 0;
const soon = () => Date.now() + 5_000;
const MINUTE = 60_000;
/** The clock alertAt's minute 0 stands for. */
const T0 = Date.UTC(2026, 10, 26, 17, 0);

/** A clock the test moves; alerts at minute m are handled at minute m unless the test says otherwise. */
let clock = T0;
const at = (minute: number) => (clock = T0 + minute * MINUTE);

const rule = (name: string, matchers: string[], groupBy: string[], windowMinutes = 10): GroupRule => ({
  name,
  matchers: parseMatcherList(matchers).matchers,
  groupBy,
  windowMs: windowMinutes * MINUTE,
});

function router(policies: RouterDeps["policies"]) {
  return h.router({ aggregates: createAggregateStore({ doc: h.doc, tableName: h.tableName }), policies, now: () => new Date(clock) });
}

/** A router whose stores write through a client that counts every request. */
function meteredRouter(policies: RouterDeps["policies"]) {
  const metered = meteredDocClient(h.endpoint);
  const r = h.router({
    store: createDynamoStateStore({ doc: metered.doc, tableName: h.tableName }),
    aggregates: createAggregateStore({ doc: metered.doc, tableName: h.tableName }),
    policies,
    now: () => new Date(clock),
  });
  return { metered, r };
}

/** Each test gets its own services and rule names: the table is shared. */
let prefix = "";

beforeAll(async () => {
  h = await startRouterHarness();
});
afterAll(async () => h.close());
beforeEach(() => {
  h.fake.reset();
  h.setRoute(() => ({ route: "default", routingKeyRef: "default" }));
  prefix = `t${(run += 1)}`;
  at(0);
});

describe("incident grouping", () => {
  const checkout = (n: number, status: "firing" | "resolved", minute: number, severity: "error" | "critical" = "error") =>
    alertAt(`${prefix}-checkout-${n}`, status, minute, { labels: { service: `${prefix}-checkout`, env: "prod" }, severity });

  it("pages once for related alerts, lists them, and resolves only when every member has resolved", async () => {
    const r = router({ groups: [rule(`${prefix}-outage`, [`service=${prefix}-checkout`], ["service"])] });
    const groupKey = `group:${prefix}-outage:service=${prefix}-checkout`;
    expect(await r.handleAlert(checkout(1, "firing", 0), soon())).toMatchObject({
      outcome: "grouped",
      into: groupKey,
      kind: "group",
      actions: ["trigger"],
    });
    at(1);
    expect(await r.handleAlert(checkout(2, "firing", 1, "critical"), soon())).toMatchObject({
      outcome: "grouped",
      into: groupKey,
      actions: ["trigger"],
    });
    expect(await r.handleAlert(checkout(3, "firing", 1), soon())).toMatchObject({ outcome: "grouped", actions: [] });
    // Duplicates of members cost nothing more.
    expect(await r.handleAlert(checkout(3, "firing", 1), soon())).toMatchObject({
      outcome: "deduplicated",
      why: `pages through ${groupKey}`,
    });

    // One incident; the critical member raised it (a trigger to the same dedup key, no new incident).
    expect(h.fake.incidents()).toHaveLength(1);
    expect(h.fake.openIncidents()[0]).toMatchObject({ dedupKey: groupKey, severity: "error" });
    const lastTrigger = h.fake.events.at(-1)!.event as PagerDutyTriggerEvent;
    expect(h.fake.events.at(-1)).toMatchObject({ action: "trigger", effect: "deduplicated" });
    expect(lastTrigger.payload.severity).toBe("critical");
    const details = lastTrigger.payload.custom_details as { members: number; firing: number; recent: { dedupKey: string }[] };
    expect(details).toMatchObject({ members: 2, firing: 2 });
    expect(details.recent.map((member) => member.dedupKey).sort()).toEqual([`${prefix}-checkout-1`, `${prefix}-checkout-2`]);

    at(5);
    // A minute after the last update, the member that joined since reaches PagerDuty with the next change.
    expect(await r.handleAlert(checkout(1, "resolved", 5), soon())).toMatchObject({ outcome: "grouped", actions: ["trigger"] });
    const update = (h.fake.events.at(-1)!.event as PagerDutyTriggerEvent).payload.custom_details as { members: number; firing: number };
    expect(update).toMatchObject({ members: 3, firing: 2 });
    expect(await r.handleAlert(checkout(2, "resolved", 5), soon())).toMatchObject({ outcome: "grouped", actions: [] });
    expect(h.fake.openIncidents()).toHaveLength(1);
    expect(await r.handleAlert(checkout(3, "resolved", 5), soon())).toMatchObject({ outcome: "grouped", actions: ["resolve"] });
    expect(h.fake.openIncidents()).toHaveLength(0);
    expect(h.fake.events.map((event) => event.action)).toEqual(["trigger", "trigger", "trigger", "resolve"]);

    const group = await h.store.get(groupKey);
    expect(group).toMatchObject({ kind: "group", status: "resolved", told: { action: "resolve" } });
    expect(group).toMatchObject({ memberCount: 3, firingCount: 0, pending: {} });
    expect(await h.store.get(`${prefix}-checkout-3`)).toMatchObject({ aggregate: { key: groupKey, synced: { status: "resolved" } } });
  });

  it("keeps alerts that match no rule, or arrive after the join window, on incidents of their own", async () => {
    const r = router({ groups: [rule(`${prefix}-outage`, [`service=${prefix}-checkout`], ["service"], 5)] });
    await r.handleAlert(checkout(1, "firing", 0), soon());
    await r.handleAlert(alertAt(`${prefix}-other`, "firing", 0, { labels: { service: `${prefix}-search` } }), soon());
    at(6);
    expect(await r.handleAlert(checkout(2, "firing", 6), soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    expect(
      h.fake
        .incidents()
        .map((incident) => incident.dedupKey)
        .sort(),
    ).toEqual([`group:${prefix}-outage:service=${prefix}-checkout`, `${prefix}-checkout-2`, `${prefix}-other`].sort());
  });

  it("opens a new incident when a member fires after the whole group resolved", async () => {
    const r = router({ groups: [rule(`${prefix}-outage`, [`service=${prefix}-checkout`], ["service"])] });
    await r.handleAlert(checkout(1, "firing", 0), soon());
    at(2);
    await r.handleAlert(checkout(1, "resolved", 2), soon());
    at(20);
    expect(await r.handleAlert(checkout(1, "firing", 20), soon())).toMatchObject({ outcome: "grouped", actions: ["trigger"] });
    expect(h.fake.incidents().map((incident) => incident.status)).toEqual(["resolved", "triggered"]);
  });

  it("survives PagerDuty failing the group's trigger: the member is counted once, the sweep pages the group once", async () => {
    const r = router({ groups: [rule(`${prefix}-outage`, [`service=${prefix}-checkout`], ["service"])] });
    const groupKey = `group:${prefix}-outage:service=${prefix}-checkout`;
    h.fake.down();
    expect(await r.handleAlert(checkout(1, "firing", 0), soon())).toMatchObject({ outcome: "grouped", into: groupKey, actions: [] });
    expect((await h.store.get(`${prefix}-checkout-1`))?.aggregate).toMatchObject({
      key: groupKey,
      kind: "group",
      synced: { status: "firing" },
    });
    h.fake.recover();
    // The redelivered member is counted already; the group's trigger is owed and the sweep sends it.
    expect(await r.handleAlert(checkout(1, "firing", 0), soon())).toMatchObject({ outcome: "deduplicated" });
    at(1);
    await sweepWatched(h.store, r, soon());
    await sweepWatched(h.store, r, soon());
    expect(h.fake.events.filter((event) => event.dedupKey === groupKey).map((event) => event.action)).toEqual(["trigger"]);
    expect(await h.store.get(groupKey)).toMatchObject({ memberCount: 1, firingCount: 1 });
  });

  it("gives one trigger and one resolve when racing instances handle every member twice", async () => {
    const groups = [rule(`${prefix}-outage`, [`service=${prefix}-checkout`], ["service"])];
    const instances = [router({ groups }), router({ groups }), router({ groups })];
    const members = Array.from({ length: 12 }, (_, n) => n);
    const settle = async (status: "firing" | "resolved", minute: number) => {
      // Like SQS: whatever asked to be retried comes back until it settles.
      let pending = [...members, ...members];
      for (let round = 0; round < 10 && pending.length > 0; round += 1) {
        const outcomes = await Promise.all(
          pending.map((n, i) => instances[i % instances.length]!.handleAlert(checkout(n, status, minute), soon())),
        );
        pending = pending.filter((_, i) => outcomes[i]!.outcome === "retry" || outcomes[i]!.outcome === "in_flight");
      }
      expect(pending).toEqual([]);
    };
    await settle("firing", 0);
    expect(h.fake.incidents()).toHaveLength(1);
    expect(h.fake.events.filter((event) => event.effect === "opened")).toHaveLength(1);
    at(3);
    await settle("resolved", 3);
    expect(h.fake.openIncidents()).toHaveLength(0);
    expect(h.fake.events.filter((event) => event.action === "resolve")).toHaveLength(1);
  });
});

describe("storm protection", () => {
  it(
    "above the rate, new problems on one routing key share one storm incident; " + "it resolves with them and the key returns to normal",
    async () => {
      h.setRoute((alert) =>
        alert.labels.team === "payments"
          ? { route: "payments", routingKeyRef: "payments" }
          : { route: "default", routingKeyRef: "default" },
      );
      const r = router({ storm: { newIncidentsPerMinute: 5 } });
      const storm = Array.from({ length: 20 }, (_, n) => alertAt(`${prefix}-storm-${n}`, "firing", 0, { labels: { service: "checkout" } }));
      const outcomes = [];
      for (const alert of storm) outcomes.push(await r.handleAlert(alert, soon()));
      // Another key is not affected by the storm on "default".
      expect(await r.handleAlert(alertAt(`${prefix}-payments`, "firing", 0, { labels: { team: "payments" } }), soon())).toMatchObject({
        outcome: "delivered",
      });

      expect(outcomes.filter((outcome) => outcome.outcome === "delivered")).toHaveLength(5);
      expect(outcomes.filter((outcome) => outcome.outcome === "grouped")).toHaveLength(15);
      const incidents = h.fake.incidents();
      expect(incidents).toHaveLength(7);
      const stormIncident = incidents.find((incident) => incident.dedupKey === "storm:default")!;
      expect(stormIncident.summary).toMatch(/^Alert storm on default: 1 problem firing/);

      // The storm is over a minute later: the next new problem pages on its own, and the sweep
      // brings the storm incident's member list up to date in one update.
      at(2);
      expect(await sweepWatched(h.store, r, soon())).toMatchObject({ failed: [] });
      const update = h.fake.events.filter((event) => event.dedupKey === "storm:default").at(-1)!;
      expect(update).toMatchObject({ dedupKey: "storm:default", action: "trigger", effect: "deduplicated" });
      expect((update.event as PagerDutyTriggerEvent).payload.summary).toMatch(/^Alert storm on default: 15 problems firing/);
      expect(await r.handleAlert(alertAt(`${prefix}-after`, "firing", 2), soon())).toMatchObject({
        outcome: "delivered",
        actions: ["trigger"],
      });

      at(4);
      for (const alert of storm) await r.handleAlert(alertAt(alert.dedupKey, "resolved", 4), soon());
      expect(
        h.fake
          .openIncidents()
          .map((incident) => incident.dedupKey)
          .sort(),
      ).toEqual([`${prefix}-after`, `${prefix}-payments`].sort());
      expect(await h.store.get("storm:default")).toMatchObject({ status: "resolved", memberCount: 15, firingCount: 0 });
    },
  );
});

describe("storm protection when PagerDuty fails", () => {
  it("keeps a stormed problem in the storm incident when its redelivery comes after the storm passed", async () => {
    // Minutes 100+: a clock minute of its own for the storm rate (the table is shared with the test above).
    at(100);
    const r = router({ storm: { newIncidentsPerMinute: 1 } });
    await r.handleAlert(alertAt(`${prefix}-first`, "firing", 100), soon());
    h.fake.down();
    const stormed = alertAt(`${prefix}-stormed`, "firing", 100);
    // Counted into the storm while PagerDuty is down; the storm's trigger is owed.
    expect(await r.handleAlert(stormed, soon())).toMatchObject({ outcome: "grouped", into: "storm:default", actions: [] });
    h.fake.recover();
    // Two minutes later the rate is back to normal, but this problem is counted in the storm incident.
    at(102);
    expect(await r.handleAlert(stormed, soon())).toMatchObject({ outcome: "deduplicated", why: "pages through storm:default" });
    await sweepWatched(h.store, r, soon());
    expect(
      h.fake
        .incidents()
        .map((incident) => incident.dedupKey)
        .sort(),
    ).toEqual([`${prefix}-first`, "storm:default"].sort());
    at(103);
    expect(await r.handleAlert(alertAt(`${prefix}-stormed`, "resolved", 103), soon())).toMatchObject({
      outcome: "grouped",
      actions: ["resolve"],
    });
    expect(h.fake.openIncidents().map((incident) => incident.dedupKey)).toEqual([`${prefix}-first`]);
  });
});

describe("storm protection over time", () => {
  it("keeps a key storming through the next minute, and returns to normal after a calm one", async () => {
    const r = router({ storm: { newIncidentsPerMinute: 5 } });
    const fire = async (name: string, minute: number) => {
      at(minute);
      return (await r.handleAlert(alertAt(`${prefix}-${name}`, "firing", minute), soon())).outcome;
    };
    const first = [];
    for (let n = 0; n < 10; n += 1) first.push(await fire(`a${n}`, 200));
    expect(first.filter((outcome) => outcome === "delivered")).toHaveLength(5);
    // The next minute is within the limit, but the storm of the minute before has not passed.
    expect([await fire("b0", 201), await fire("b1", 201)]).toEqual(["grouped", "grouped"]);
    // A minute with 2 new incidents, then a new one pages on its own again.
    expect(await fire("c0", 202)).toBe("delivered");
  });

  it("resolves a problem's own incident when it paged on its own after an episode in the storm", async () => {
    const r = router({ storm: { newIncidentsPerMinute: 1 } });
    const key = `${prefix}-twice`;
    at(300);
    await r.handleAlert(alertAt(`${prefix}-opener`, "firing", 300), soon());
    expect(await r.handleAlert(alertAt(key, "firing", 300), soon())).toMatchObject({ outcome: "grouped", into: "storm:default" });
    at(301);
    expect(await r.handleAlert(alertAt(key, "resolved", 301), soon())).toMatchObject({ outcome: "grouped" });
    // Long after the storm: the same problem fires again and pages on its own ...
    at(320);
    expect(await r.handleAlert(alertAt(key, "firing", 320), soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    at(321);
    // ... so its resolve goes to its own incident, not to the storm it was once in.
    expect(await r.handleAlert(alertAt(key, "resolved", 321), soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
    expect(h.fake.openIncidents().filter((incident) => incident.dedupKey === key)).toHaveLength(0);
  });
});

describe("the storm gate's counter", () => {
  it("counts each new incident with one write, none failed, whichever instance counted the minute before", async () => {
    const ref = `${prefix}-gate`;
    // A fresh store per count: an instance that never counted on this key.
    const count = async (minute: number) => {
      const metered = meteredDocClient(h.endpoint);
      const store = createAggregateStore({ doc: metered.doc, tableName: h.tableName });
      const counts = await store.countNewIncident(ref, new Date(T0 + minute * MINUTE));
      return { counts, writes: metered.writes.length, failed: metered.failedWrites().length };
    };
    const first = await count(400);
    const next = await count(401);
    const sameMinute = await count(401);
    const afterQuiet = await count(405);
    expect([first, next, sameMinute, afterQuiet].map(({ counts, writes, failed }) => ({ ...counts, writes, failed }))).toEqual([
      { thisMinute: 1, lastMinute: 0, writes: 1, failed: 0 },
      { thisMinute: 1, lastMinute: 1, writes: 1, failed: 0 },
      { thisMinute: 2, lastMinute: 1, writes: 1, failed: 0 },
      { thisMinute: 1, lastMinute: 0, writes: 1, failed: 0 },
    ]);
  });

  it("a new problem below the storm rate pages on its own, the trigger's claim ending the gate's (one write fewer)", async () => {
    const { metered, r } = meteredRouter({ storm: { newIncidentsPerMinute: 5 } });
    const key = `${prefix}-alone`;
    at(600);
    expect(await r.handleAlert(alertAt(key, "firing", 600), soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    // Recorded (the write that creates the item also takes the gate's claim), claimed for delivery (ending the gate's claim), confirmed.
    expect(metered.writes.filter((w) => w.key === key).map((w) => w.command)).toEqual(Array(3).fill("UpdateItemCommand"));
    expect(metered.failedWrites()).toEqual([]);
    const state = await h.store.get(key);
    expect(state).toMatchObject({ gatedAt: state!.transitionAt, told: { action: "trigger" } });
    expect(state!.aggregate).toBeUndefined();
    // A redelivered copy is not counted again, nor paged again.
    expect(await r.handleAlert(alertAt(key, "firing", 600), soon())).toMatchObject({ outcome: "deduplicated" });
    expect(h.fake.triggerCount(key)).toBe(1);
  });

  it("a new problem in a suppression window takes no gate claim: when the window ends it is judged and pages once", async () => {
    const r = router({ storm: { newIncidentsPerMinute: 5 } });
    const key = `${prefix}-quiet`;
    at(700);
    h.setWindow(() => ({ id: "maintenance", endsAt: new Date(T0 + 705 * MINUTE).toISOString() }));
    expect(await r.handleAlert(alertAt(key, "firing", 700), soon())).toMatchObject({ outcome: "suppressed" });
    expect((await h.store.get(key))!.aggregate).toBeUndefined();
    // A duplicate during the window is not counted into any incident either.
    expect(await r.handleAlert({ ...alertAt(key, "firing", 701), id: `${key}-again` }, soon())).toMatchObject({ outcome: "suppressed" });
    h.setWindow(() => undefined);
    at(706);
    expect(await sweepWatched(h.store, r, soon())).toMatchObject({ failed: [] });
    expect(h.fake.triggerCount(key)).toBe(1);
    expect(await h.store.get(key)).toMatchObject({ gatedAt: expect.any(String), told: { action: "trigger" } });
  });

  it("a new problem joining its group: the write that records it takes the member's claim (two writes on the member)", async () => {
    const { metered, r } = meteredRouter({
      groups: [rule(`${prefix}-db`, [`service=${prefix}-db`], ["service"])],
      storm: { newIncidentsPerMinute: 5 },
    });
    const key = `${prefix}-db-1`;
    at(800);
    expect(await r.handleAlert(alertAt(key, "firing", 800, { labels: { service: `${prefix}-db` } }), soon())).toMatchObject({
      outcome: "grouped",
      actions: ["trigger"],
    });
    // Recorded with the member's claim, then what the group counted (ending the claim and the owed mark).
    expect(metered.writes.filter((w) => w.key === key).map((w) => w.command)).toEqual(Array(2).fill("UpdateItemCommand"));
    expect(await h.store.get(key)).toMatchObject({
      aggregate: { key: `group:${prefix}-db:service=${prefix}-db`, synced: { status: "firing" } },
    });
    expect((await h.store.get(key))!.watch).toBeUndefined();
  });

  it("a member's resolve: the write that records it takes the member's claim (two writes on the member)", async () => {
    const groupRule = rule(`${prefix}-cache`, [`service=${prefix}-cache`], ["service"]);
    const { metered, r } = meteredRouter({ groups: [groupRule], storm: { newIncidentsPerMinute: 5 } });
    const labels = { service: `${prefix}-cache` };
    const [first, second] = [`${prefix}-cache-1`, `${prefix}-cache-2`];
    at(900);
    await r.handleAlert(alertAt(first, "firing", 900, { labels }), soon());
    await r.handleAlert(alertAt(second, "firing", 900, { labels }), soon());
    at(905);
    metered.reset();
    expect(await r.handleAlert(alertAt(first, "resolved", 905, { labels }), soon())).toMatchObject({ outcome: "grouped" });
    // Recorded with the member's claim, then what the group counted (ending the claim and the owed mark).
    expect(metered.writes.filter((w) => w.key === first).map((w) => w.command)).toEqual(Array(2).fill("UpdateItemCommand"));
    expect(metered.failedWrites()).toEqual([]);
    expect(await r.handleAlert(alertAt(second, "resolved", 905, { labels }), soon())).toMatchObject({
      outcome: "grouped",
      actions: ["resolve"],
    });
    const group = `group:${prefix}-cache:service=${prefix}-cache`;
    expect(await h.store.get(group)).toMatchObject({ status: "resolved", memberCount: 2, firingCount: 0, pending: {} });
    expect(await h.store.get(first)).toMatchObject({ aggregate: { key: group, synced: { status: "resolved" } } });
    expect((await h.store.get(first))!.aggregate!.claim).toBeUndefined();
    expect(h.fake.openIncidents().filter((incident) => incident.dedupKey === group)).toEqual([]);
  });

  it("a group's next episode opens with no failed write on the instance that saw the last one resolve", async () => {
    const { metered, r } = meteredRouter({ groups: [rule(`${prefix}-queue`, [`service=${prefix}-queue`], ["service"])] });
    const labels = { service: `${prefix}-queue` };
    const group = `group:${prefix}-queue:service=${prefix}-queue`;
    const member = `${prefix}-queue-1`;
    at(1000);
    await r.handleAlert(alertAt(member, "firing", 1000, { labels }), soon());
    at(1002);
    await r.handleAlert(alertAt(member, "resolved", 1002, { labels }), soon());
    expect(await h.store.get(group)).toMatchObject({ status: "resolved" });
    at(1020);
    metered.reset();
    expect(await r.handleAlert(alertAt(member, "firing", 1020, { labels }), soon())).toMatchObject({
      outcome: "grouped",
      actions: ["trigger"],
    });
    expect(metered.failedWrites().filter((w) => w.key === group)).toEqual([]);
    expect(await h.store.get(group)).toMatchObject({ status: "firing", memberCount: 1, firingCount: 1 });
    expect(
      h.fake
        .incidents()
        .filter((incident) => incident.dedupKey === group)
        .map((incident) => incident.status),
    ).toEqual(["resolved", "triggered"]);
  });

  it("an instance counting again in its minute writes without reading first", async () => {
    const ref = `${prefix}-gate`;
    const metered = meteredDocClient(h.endpoint);
    const store = createAggregateStore({ doc: metered.doc, tableName: h.tableName });
    await store.countNewIncident(ref, new Date(T0 + 500 * MINUTE));
    metered.reset();
    expect(await store.countNewIncident(ref, new Date(T0 + 500 * MINUTE + 30_000))).toEqual({ thisMinute: 2, lastMinute: 0 });
    expect([metered.reads, metered.writes.length, metered.failedWrites()]).toEqual([[], 1, []]);
  });
});

describe("flapping", () => {
  const flapping = { changes: 3, withinMs: 10 * MINUTE, stableMs: 5 * MINUTE };

  it("holds the resolve of a flapping problem until it is stable, then the sweep resolves it once", async () => {
    const r = router({ flapping });
    const key = `${prefix}-flappy`;
    for (const [minute, status] of [
      [0, "firing"],
      [1, "resolved"],
      [2, "firing"],
    ] as const) {
      at(minute);
      expect(await r.handleAlert(alertAt(key, status, minute), soon())).toMatchObject({ outcome: "delivered" });
    }
    at(3);
    expect(await r.handleAlert(alertAt(key, "resolved", 3), soon())).toMatchObject({
      outcome: "held",
      until: new Date(T0 + 8 * MINUTE).toISOString(),
    });
    at(4);
    expect(await r.handleAlert(alertAt(key, "firing", 4), soon())).toMatchObject({
      outcome: "deduplicated",
      why: "already triggered in PagerDuty",
    });
    at(5);
    expect(await r.handleAlert(alertAt(key, "resolved", 5), soon())).toMatchObject({ outcome: "held" });
    expect(h.fake.openIncidents()).toHaveLength(1);
    // Marked flapping from the first held resolve on.
    expect((await h.store.get(key))?.flappingSince).toBe(alertAt(key, "resolved", 3).occurredAt);

    // Other tests' open groups share the table and the sweep; look at this problem's events only.
    const actions = () => h.fake.events.filter((event) => event.dedupKey === key).map((event) => event.action);
    at(8);
    expect((await sweepWatched(h.store, r, soon())).failed).toEqual([]);
    expect(actions()).toEqual(["trigger", "resolve", "trigger"]);
    at(10);
    expect((await sweepWatched(h.store, r, soon())).failed).toEqual([]);
    expect(actions()).toEqual(["trigger", "resolve", "trigger", "resolve"]);
    expect(h.fake.openIncidents().filter((incident) => incident.dedupKey === key)).toHaveLength(0);
    const state = await h.store.get(key);
    expect(state).toMatchObject({ held: 2, told: { action: "resolve" } });
    expect(state?.watch).toBeUndefined();
    expect(state?.flappingSince).toBeUndefined();
    // Nothing left for the sweep about this problem.
    const watched: string[] = [];
    for await (const dedupKey of h.store.watched()) watched.push(dedupKey);
    expect(watched).not.toContain(key);
  });

  it("sends nothing more when a flapping problem settles firing", async () => {
    const r = router({ flapping });
    const key = `${prefix}-settles-firing`;
    for (const [minute, status] of [
      [0, "firing"],
      [1, "resolved"],
      [2, "firing"],
      [3, "resolved"],
      [4, "firing"],
    ] as const) {
      at(minute);
      await r.handleAlert(alertAt(key, status, minute), soon());
    }
    at(30);
    await sweepWatched(h.store, r, soon());
    expect(h.fake.openIncidents().filter((incident) => incident.dedupKey === key)).toHaveLength(1);
    expect(h.fake.events.filter((event) => event.dedupKey === key).map((event) => event.action)).toEqual(["trigger", "resolve", "trigger"]);
  });

  it("keeps the recent change times bounded, trimming once every MAX_RECORDED_CHANGES changes", async () => {
    const r = router({});
    const key = `${prefix}-many-changes`;
    const lengths: number[] = [];
    for (let minute = 0; minute < 3 * MAX_RECORDED_CHANGES; minute += 1) {
      at(minute);
      await r.handleAlert(alertAt(key, minute % 2 === 0 ? "firing" : "resolved", minute), soon());
      lengths.push((await h.store.get(key))!.changes!.length);
    }
    expect(Math.max(...lengths)).toBe(2 * MAX_RECORDED_CHANGES);
    expect(lengths.filter((length) => length === MAX_RECORDED_CHANGES)).toHaveLength(2);
    // The newest change is always kept.
    expect((await h.store.get(key))!.changes!.at(-1)).toBe(alertAt(key, "resolved", 3 * MAX_RECORDED_CHANGES - 1).occurredAt);
  });

  it("does not hold a problem that changes rarely", async () => {
    const r = router({ flapping });
    const key = `${prefix}-calm`;
    for (const [minute, status] of [
      [0, "firing"],
      [20, "resolved"],
      [40, "firing"],
      [60, "resolved"],
    ] as const) {
      at(minute);
      expect(await r.handleAlert(alertAt(key, status, minute), soon())).toMatchObject({ outcome: "delivered" });
    }
    expect(h.fake.openIncidents().filter((incident) => incident.dedupKey === key)).toHaveLength(0);
  });
});
