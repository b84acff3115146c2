/**
 * Write units of the steady path (issue 15): a problem's state item stays small, so a duplicate of
 * a 2 KB alert is one conditional write charged one unit, while the full alert is still what the
 * sweep pages with and what `state show` reads. Charged as dynalite reports it (ReturnConsumedCapacity:
 * an update is charged on the larger of the item before and after, in 1 KB units).
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { NormalizedAlert } from "../../../lib/alert/schema.ts";
import { COPY_REFRESH_MS, createDynamoStateStore } from "../../../lib/state-table/problem-store.ts";
import { alertItemKey, storedAlert } from "../../../lib/state-table/table.ts";
import { sweepWatched } from "../../../lib/router/sweep.ts";
import { useRouterHarness } from "../../support/router-harness.ts";
import { meteredDocClient } from "../../support/metered-dynamo.ts";
import { alertAt } from "../../support/alerts.ts";

const h = useRouterHarness();
const soon = () => Date.now() + 5_000;

const dynaliteDb = createRequire(import.meta.url)("dynalite/db/index.js") as { itemSize(item: Record<string, AttributeValue>): number };

/** A firing alert of about 2 KB, as normalized alerts with annotations and links are. */
function bigAlert(key: string, minute: number, status: "firing" | "resolved" = "firing"): NormalizedAlert {
  const base = alertAt(key, status, minute, { labels: { service: "checkout", team: "web", env: "prod" } });
  return { ...base, details: { ...base.details, description: "d".repeat(1_500) }, summary: `${key}: checkout latency over 2 s` };
}

/** A state store on its own client that records every request and the write units dynalite charges for it. */
function meteredStore() {
  const metered = meteredDocClient(h.endpoint);
  return { ...metered, store: createDynamoStateStore({ doc: metered.doc, tableName: h.tableName }) };
}

async function itemBytes(dedupKey: string): Promise<number> {
  const { Item } = await h.doc.send(new GetCommand({ TableName: h.tableName, Key: { dedupKey }, ConsistentRead: true }));
  return Item ? dynaliteDb.itemSize(marshall(Item, { removeUndefinedValues: true })) : 0;
}

describe("a duplicate costs one write unit", () => {
  it("a duplicate of a 2 KB alert, delivered and confirmed, is one conditional write charged 1 unit and no read", async () => {
    const metered = meteredStore();
    const router = h.router({ store: metered.store });
    const key = "hot-duplicate";
    const firing = bigAlert(key, 0);
    expect(Buffer.byteLength(JSON.stringify(firing))).toBeGreaterThan(1_800);
    expect(await router.handleAlert(firing, soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });

    metered.reset();
    const duplicate = { ...bigAlert(key, 3), id: `${firing.id}-again` };
    expect(await router.handleAlert(duplicate, soon())).toMatchObject({ outcome: "deduplicated", recorded: "repeat" });
    expect(metered.writes).toEqual([{ command: "UpdateItemCommand", key, units: 1 }]);
    expect(metered.reads).toEqual([]);
    // Well under 1 KB, with PagerDuty's record, the change list and the counters on it.
    expect(await itemBytes(key)).toBeLessThan(700);
  });

  it("every write after the firing's own alert item is charged 1 unit: claim, confirm, resolve", async () => {
    const metered = meteredStore();
    const router = h.router({ store: metered.store });
    const key = "hot-cycle";
    expect(await router.handleAlert(bigAlert(key, 0), soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    const alertWrites = metered.writes.filter((w) => w.key === alertItemKey(key));
    expect(alertWrites).toHaveLength(1);
    expect(alertWrites[0]).toMatchObject({ command: "PutItemCommand" });
    expect(alertWrites[0]!.units).toBeGreaterThanOrEqual(2);
    // Record, claim, confirm (and, for a key this instance has not seen, the repeat tried first, which failed).
    const stateWrites = metered.writes.filter((w) => w.key === key && !w.command.includes("condition failed"));
    expect(stateWrites.length).toBeGreaterThanOrEqual(3);
    expect(stateWrites.map((w) => w.units)).toEqual(stateWrites.map(() => 1));

    metered.reset();
    expect(await router.handleAlert(bigAlert(key, 5, "resolved"), soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
    // The resolve's own writes are one unit each; only the alert item's expiry is charged on its size.
    expect(metered.writes.filter((w) => w.key === key).map((w) => w.units)).toEqual(
      metered.writes.filter((w) => w.key === key).map(() => 1),
    );
    expect(metered.writes.filter((w) => w.key !== key).map((w) => w.key)).toEqual([alertItemKey(key)]);
    const { Item } = await h.doc.send(
      new GetCommand({ TableName: h.tableName, Key: { dedupKey: alertItemKey(key) }, ConsistentRead: true }),
    );
    const state = await h.store.get(key);
    expect(Item?.expiresAt).toBe(state!.expiresAt);
  });

  it(
    "a firing re-sent after its resolve (as Alertmanager does) is stale: " + "one 1-unit write, and the alert item is not touched",
    async () => {
      const metered = meteredStore();
      const router = h.router({ store: metered.store });
      const key = "hot-stale";
      const firing = bigAlert(key, 0);
      expect(await router.handleAlert(firing, soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
      expect(await router.handleAlert(bigAlert(key, 5, "resolved"), soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
      metered.reset();
      expect(await router.handleAlert({ ...firing, id: `${firing.id}-resent` }, soon())).toMatchObject({ outcome: "stale" });
      expect(metered.writes).toEqual([{ command: "UpdateItemCommand", key, units: 1 }]);
      expect((await h.store.get(key))!.lastAlert).toEqual(firing);
    },
  );

  it("the full alert is what state reads and the sweep pages with, after duplicates with other content", async () => {
    const metered = meteredStore();
    const key = "hot-owed";
    const firing = bigAlert(key, 0);
    // Recorded, then the instance stops before delivering: the sweep must page from the table.
    await metered.store.record(firing, new Date());
    await metered.store.record({ ...bigAlert(key, 2), id: `${firing.id}-2`, summary: "a later copy" }, new Date());
    const stored = await h.store.get(key);
    expect(stored!.lastAlert).toEqual(firing);
    expect(stored!.lastAlertId).toBe(`${firing.id}-2`);

    const report = await sweepWatched(h.store, h.router(), soon(), Date.now, 8, 0);
    expect(report).toMatchObject({ delivered: 1, recovered: 1 });
    const sent = h.fake.events.find((e) => e.dedupKey === key)!.event as {
      payload: { summary: string; custom_details: Record<string, unknown> };
    };
    expect(sent.payload.summary).toBe(firing.summary);
    expect(sent.payload.custom_details).toMatchObject({ description: "d".repeat(1_500) });
  });

  it("a state never pairs with the alert of an older firing, and a stale firing does not replace the alert", async () => {
    const router = h.router();
    const key = "hot-versions";
    const first = bigAlert(key, 0);
    expect(await router.handleAlert(first, soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    expect(await router.handleAlert(bigAlert(key, 10, "resolved"), soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
    const second = { ...bigAlert(key, 20), summary: "it fired again" };
    expect(await router.handleAlert(second, soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    expect((await h.store.get(key))!.lastAlert).toEqual(second);
    // Older than the alert kept: a duplicate, and the kept alert stays.
    expect(await router.handleAlert({ ...bigAlert(key, 5), summary: "an old copy" }, soon())).toMatchObject({ outcome: "deduplicated" });
    expect((await h.store.get(key))!.lastAlert).toEqual(second);
    // An alert item older than the state's firing (put back by hand) is not paired: the state's own fields stand in.
    await h.doc.send(
      new PutCommand({
        TableName: h.tableName,
        Item: { dedupKey: alertItemKey(key), alert: storedAlert(first), occurredAt: first.occurredAt },
      }),
    );
    const state = await h.store.get(key);
    expect(state!.lastAlert).toMatchObject({ summary: key, labels: {}, status: "firing", severity: second.severity });
  });

  it("items of the old layout (the alert inline) are read, deduplicated and move to the new layout at their next firing", async () => {
    const key = "hot-legacy";
    const firing = bigAlert(key, 0);
    const at = firing.occurredAt;
    await h.doc.send(
      new PutCommand({
        TableName: h.tableName,
        Item: {
          dedupKey: key,
          source: "echo",
          status: "firing",
          severity: firing.severity,
          transitionAt: at,
          eventAt: at,
          firstSeenAt: at,
          lastSeenAt: at,
          lastAlertId: firing.id,
          lastAlert: storedAlert(firing),
          seen: 1,
          deduplicated: 0,
          suppressed: 0,
          stale: 0,
          changes: [at],
          told: { action: "trigger", routingKeyRef: "default", route: "default", severity: firing.severity, alertId: firing.id, at },
          openIn: { routingKeyRef: "default", route: "default" },
        },
      }),
    );
    expect((await h.store.get(key))!.lastAlert).toEqual(firing);
    const router = h.router();
    expect(await router.handleAlert(bigAlert(key, 1), soon())).toMatchObject({ outcome: "deduplicated" });
    expect(await router.handleAlert(bigAlert(key, 5, "resolved"), soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
    expect(h.fake.events.map((e) => e.action)).toEqual(["resolve"]);
    const again = { ...bigAlert(key, 9), summary: "fired again" };
    expect(await router.handleAlert(again, soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    expect((await h.store.get(key))!.lastAlert).toEqual(again);
    expect(await itemBytes(key)).toBeLessThan(1_024);
  });
});

describe("no paid guesses: an instance that never saw a problem reads which write applies", () => {
  it("each of the four outcomes, recorded by a fresh instance, is one state write and no failed one", async () => {
    const key = "unseen-instance";
    const record = async (alert: NormalizedAlert) => {
      // A fresh store: its instance has no hint of this problem, as after a cold start or when another instance saw it last.
      const metered = meteredStore();
      const result = await metered.store.record(alert, new Date());
      return { outcome: result.outcome, failed: metered.failedWrites(), stateWrites: metered.writes.filter((w) => w.key === key) };
    };
    const firing = bigAlert(key, 10);
    const outcomes = [
      await record(firing),
      await record({ ...bigAlert(key, 12), id: `${firing.id}-copy` }),
      await record({ ...bigAlert(key, 11), id: `${firing.id}-older` }),
      await record(bigAlert(key, 20, "resolved")),
      await record({ ...bigAlert(key, 15), id: `${firing.id}-late` }),
    ];
    expect(outcomes.map((o) => o.outcome)).toEqual(["new", "repeat", "repeat", "transition", "stale"]);
    for (const o of outcomes) {
      expect(o.failed).toEqual([]);
      expect(o.stateWrites).toHaveLength(1);
    }
  });

  it("a problem that fires again after its resolve costs no failed write on the instance that recorded the resolve", async () => {
    const key = "fires-again";
    const metered = meteredStore();
    await metered.store.record(bigAlert(key, 0), new Date());
    await metered.store.record(bigAlert(key, 5, "resolved"), new Date());
    metered.reset();
    // Last seen resolved: a firing may be a stale copy or a new episode; the read tells which.
    expect((await metered.store.record(bigAlert(key, 9), new Date())).outcome).toBe("transition");
    expect(metered.failedWrites()).toEqual([]);
    expect(metered.writes.map((w) => w.key)).toEqual([alertItemKey(key), key]);
  });
});

describe("a new problem's first write can take the member's claim for the storm gate (one write fewer)", () => {
  const ref = (id: string) => ({
    key: "storm:default",
    kind: "storm" as const,
    rule: "default",
    claim: { id, until: "2099-01-01T00:00:00.000Z" },
  });

  it("a problem with no state item yet: the claim is asked for and taken by the write that records it", async () => {
    const key = "judged-new";
    const metered = meteredStore();
    let asked = 0;
    const result = await metered.store.record(bigAlert(key, 0), new Date(), { newProblemClaim: async () => ((asked += 1), ref("c-1")) });
    expect(result).toMatchObject({ outcome: "new", state: { status: "firing", aggregate: ref("c-1") } });
    expect(asked).toBe(1);
    expect(metered.writes.filter((w) => w.key === key)).toEqual([{ command: "UpdateItemCommand", key, units: 1 }]);
    expect(await h.store.get(key)).toMatchObject({ aggregate: ref("c-1"), watch: "owed" });
  });

  it("a problem that has a state item is recorded as before: the claim is never asked for", async () => {
    const key = "judged-known";
    await h.store.record(bigAlert(key, 0), new Date());
    await h.store.record(bigAlert(key, 5, "resolved"), new Date());
    let asked = 0;
    const claim = { newProblemClaim: async () => ((asked += 1), ref("c-2")) };
    const fresh = meteredStore();
    expect((await fresh.store.record(bigAlert(key, 9), new Date(), claim)).outcome).toBe("transition");
    expect(asked).toBe(0);
    expect((await h.store.get(key))!.aggregate).toBeUndefined();
  });

  it("no claim when none is given (a window suppresses it, or nothing groups it)", async () => {
    const key = "judged-none";
    const result = await h.store.record(bigAlert(key, 0), new Date(), { newProblemClaim: async () => undefined });
    expect(result.outcome).toBe("new");
    expect((await h.store.get(key))!.aggregate).toBeUndefined();
  });

  it("another instance recording the problem first: its state stands, this copy is a repeat and takes no claim", async () => {
    const key = "judged-race";
    const first = bigAlert(key, 0);
    const metered = meteredStore();
    // The other instance records between this instance's read and its write.
    const result = await metered.store.record({ ...first, id: `${first.id}-peer` }, new Date(), {
      newProblemClaim: async () => {
        await h.store.record(first, new Date());
        return ref("c-3");
      },
    });
    expect(result.outcome).toBe("repeat");
    expect(result.state.aggregate).toBeUndefined();
    const state = await h.store.get(key);
    expect(state).toMatchObject({ status: "firing", seen: 2 });
    expect(state!.aggregate).toBeUndefined();
    expect(metered.failedWrites()).toHaveLength(1);
  });
});

describe("a resolve's delivery claim is taken by the write that records it", () => {
  const flapping = { changes: 3, withinMs: 10 * 60_000, stableMs: 5 * 60_000 };
  const stateWrites = (metered: ReturnType<typeof meteredStore>, key: string) =>
    metered.writes.filter((w) => w.key === key).map((w) => w.command);

  it("on the instance that saw it fire: recorded with the claim, delivered, confirmed (two writes on the state item)", async () => {
    const metered = meteredStore();
    const router = h.router({ store: metered.store, policies: { flapping } });
    const key = "resolve-claimed";
    expect(await router.handleAlert(bigAlert(key, 0), soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    metered.reset();
    expect(await router.handleAlert(bigAlert(key, 5, "resolved"), soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
    expect(stateWrites(metered, key)).toEqual(["UpdateItemCommand", "UpdateItemCommand"]);
    expect(metered.failedWrites()).toEqual([]);
    expect(h.fake.openIncidents()).toEqual([]);
    const state = await h.store.get(key);
    expect(state).toMatchObject({ status: "resolved", told: { action: "resolve" } });
    expect([state!.delivery, state!.openIn, state!.watch]).toEqual([undefined, undefined, undefined]);
  });

  it("on an instance that never saw it: one read says where the trigger went, then the same two writes", async () => {
    const key = "resolve-claimed-elsewhere";
    expect(await h.router().handleAlert(bigAlert(key, 0), soon())).toMatchObject({ outcome: "delivered", actions: ["trigger"] });
    const metered = meteredStore();
    const router = h.router({ store: metered.store, policies: { flapping } });
    expect(await router.handleAlert(bigAlert(key, 5, "resolved"), soon())).toMatchObject({ outcome: "delivered", actions: ["resolve"] });
    expect(stateWrites(metered, key)).toEqual(["UpdateItemCommand", "UpdateItemCommand"]);
    expect(metered.failedWrites()).toEqual([]);
    expect(h.fake.openIncidents()).toEqual([]);
  });

  it("not while another instance is delivering the trigger: the resolve is recorded without it and follows the trigger", async () => {
    const key = "resolve-behind-trigger";
    const router = h.router();
    await h.store.record(bigAlert(key, 0), new Date());
    const firing = (await h.store.get(key))!;
    const other = { claimId: "other", action: "trigger" as const, severity: firing.severity, routingKeyRef: "default", route: "default" };
    expect(await h.store.claim(firing, { ...other, until: new Date(Date.now() + 60_000).toISOString() }, new Date())).toBe(true);
    expect(await router.handleAlert(bigAlert(key, 5, "resolved"), soon())).toMatchObject({ outcome: "retry" });
    expect(await h.store.get(key)).toMatchObject({ status: "resolved", delivery: { claimId: "other", action: "trigger" }, watch: "owed" });
    expect(h.fake.events).toEqual([]);
  });

  it("not for a flapping problem's resolve, which is held: no claim and no failed write", async () => {
    const metered = meteredStore();
    let minuteNow = 0;
    const now = () => new Date(Date.UTC(2026, 10, 26, 17, minuteNow));
    const router = h.router({ store: metered.store, policies: { flapping }, now });
    const key = "resolve-flapping";
    for (const [minute, status] of [
      [0, "firing"],
      [1, "resolved"],
      [2, "firing"],
    ] as const)
      await router.handleAlert(bigAlert(key, (minuteNow = minute), status), soon());
    minuteNow = 3;
    metered.reset();
    // The fourth change in ten minutes: flapping, so the resolve waits.
    expect(await router.handleAlert(bigAlert(key, 3, "resolved"), soon())).toMatchObject({ outcome: "held" });
    expect(metered.failedWrites()).toEqual([]);
    expect((await h.store.get(key))!.delivery).toBeUndefined();
  });
});

// Last in the file: these record problems without delivering them, which a sweep above would page.
describe("copies of the alert last recorded", () => {
  it("a copy of the alert last recorded (same id) is one read and no write, until the problem was last seen 10 minutes ago", async () => {
    const metered = meteredStore();
    const key = "hot-copy";
    const firing = bigAlert(key, 0);
    const t0 = new Date("2026-11-26T17:01:00Z");
    expect((await metered.store.record(firing, t0)).outcome).toBe("new");

    metered.reset();
    const copy = await metered.store.record(firing, new Date(t0.getTime() + 60_000));
    expect(copy).toMatchObject({ outcome: "repeat", state: { status: "firing", seen: 1, lastSeenAt: t0.toISOString() } });
    expect(copy.state.lastAlert).toBe(firing);
    expect(metered.writes).toEqual([]);
    expect(metered.reads).toEqual(["GetItemCommand"]);

    // Seen last longer ago than COPY_REFRESH_MS: written again, so lastSeenAt stays right to within it.
    metered.reset();
    const later = new Date(t0.getTime() + COPY_REFRESH_MS + 1_000);
    expect(await metered.store.record(firing, later)).toMatchObject({
      outcome: "repeat",
      state: { seen: 2, lastSeenAt: later.toISOString() },
    });
    expect(metered.writes.map((w) => w.command)).toEqual(["UpdateItemCommand"]);

    // The same alert with another severity is news: written.
    metered.reset();
    const raised = { ...firing, severity: "critical" as const };
    expect(await metered.store.record(raised, new Date(later.getTime() + 1_000))).toMatchObject({
      outcome: "repeat",
      state: { severity: "critical", seen: 3 },
    });
    expect(metered.writes.map((w) => w.command)).toEqual(["UpdateItemCommand"]);
  });

  it("a copy read after another instance recorded the resolve is stale, not a repeat", async () => {
    const here = meteredStore();
    const elsewhere = createDynamoStateStore({ doc: h.doc, tableName: h.tableName });
    const key = "copy-after-resolve";
    const firing = bigAlert(key, 0);
    const t0 = new Date("2026-11-26T17:01:00Z");
    await here.store.record(firing, t0);
    await elsewhere.record(bigAlert(key, 2, "resolved"), new Date(t0.getTime() + 120_000));
    here.reset();
    expect(await here.store.record(firing, new Date(t0.getTime() + 180_000))).toMatchObject({
      outcome: "stale",
      state: { status: "resolved" },
    });
    expect(here.failedWrites()).toEqual([]);
  });
});
